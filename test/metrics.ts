/** The value of one sample line of a Prometheus text, e.g. `rxsaga_jobs_queued{task="x"}`. */
export function metricSample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
