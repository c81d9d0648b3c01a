/**
 * The soak's judgement, pure: from the 10-second samples to pass/fail. The windows scale with
 * the run: a 60-minute soak warms up for its first 5 minutes, takes its baseline over its first
 * 10 and judges its last 5; a shorter one takes the same fractions (1/12, 1/6, 1/12), never
 * less than 20 s of warm-up and two samples in the baseline, and three in the final window.
 */

export interface SoakSample {
  /** Seconds since the load started. */
  t: number;
  /** Resident memory of the web and worker processes together. */
  rssBytes: number;
  /** The worst event-loop delay (p99) of those processes since the previous sample. */
  loopDelayP99Ms: number;
  /** Connections to the soak's database (pg_stat_activity). */
  connections: number;
  /** p95 of POST /api/orders answered since the previous sample; null while the load pauses. */
  p95Ms: number | null;
  /** Orders confirmed since the previous sample. */
  orders: number;
  paused: boolean;
}

export interface SoakWindows {
  warmupEnd: number;
  baselineEnd: number;
  finalStart: number;
}

export interface SoakLimits {
  memoryGrowth: number;
  p95Drift: number;
  /**
   * Connections the pools may still open beyond the most seen in the first half of the run (at
   * least this many, or this fraction of it): pools open connections lazily up to their size
   * when a burst comes, then stop; a leak never stops growing.
   */
  connectionSlack: { min: number; fraction: number };
}

const SOAK_LIMITS: SoakLimits = {
  memoryGrowth: 0.1,
  p95Drift: 2,
  connectionSlack: { min: 3, fraction: 0.15 },
};

export interface SoakCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export function soakWindows(durationS: number, sampleS: number): SoakWindows {
  const warmupEnd = Math.min(durationS / 2, Math.max(20, durationS / 12));
  const baselineEnd = Math.max(durationS / 6, warmupEnd + 2 * sampleS);
  const finalStart = Math.min(durationS - durationS / 12, durationS - 3 * sampleS);
  return { warmupEnd, baselineEnd, finalStart: Math.max(finalStart, baselineEnd) };
}

function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;

export interface SoakVerdict {
  windows: SoakWindows;
  memoryBaseline: number;
  memoryFinal: number;
  p95Baseline: number | null;
  p95Final: number | null;
  /** The most connections seen in the first half of the run. */
  connectionsBaseline: number;
  connectionsAllowed: number;
  connectionsFinal: number;
  checks: SoakCheck[];
}

export function judgeSoak(
  samples: readonly SoakSample[],
  durationS: number,
  sampleS: number,
  limits = SOAK_LIMITS,
): SoakVerdict {
  const w = soakWindows(durationS, sampleS);
  const baseline = samples.filter((s) => s.t > w.warmupEnd && s.t <= w.baselineEnd);
  const first = samples.filter((s) => s.t <= w.baselineEnd);
  const final = samples.filter((s) => s.t > w.finalStart);
  const live = (xs: readonly SoakSample[]) =>
    xs.flatMap((s) => (s.p95Ms === null ? [] : [s.p95Ms]));
  const memoryBaseline = median(baseline.map((s) => s.rssBytes));
  const memoryFinal = median(final.map((s) => s.rssBytes));
  const p95Baseline = live(first).length ? median(live(first)) : null;
  const p95Final = live(final).length ? median(live(final)) : null;
  const connectionsBaseline = Math.max(
    0,
    ...samples.filter((s) => s.t <= durationS / 2).map((s) => s.connections),
  );
  const slack = Math.max(
    limits.connectionSlack.min,
    Math.ceil(connectionsBaseline * limits.connectionSlack.fraction),
  );
  const connectionsFinal = Math.max(0, ...final.map((s) => s.connections));
  const enough = baseline.length >= 1 && final.length >= 1;
  const checks: SoakCheck[] = [
    {
      name: `memory (RSS, web + workers) grows ≤ ${limits.memoryGrowth * 100} % after warm-up`,
      ok: enough && memoryFinal <= memoryBaseline * (1 + limits.memoryGrowth),
      detail: enough
        ? `${mb(memoryBaseline)} after warm-up (median ${w.warmupEnd.toFixed(0)}–${w.baselineEnd.toFixed(0)} s) → ${mb(memoryFinal)} at the end (median after ${w.finalStart.toFixed(0)} s): ${(((memoryFinal - memoryBaseline) / memoryBaseline) * 100).toFixed(1)} %`
        : 'not enough samples',
    },
    {
      name: 'no connection leak: the end holds no more database connections than the first half (+ pool growth)',
      ok: enough && connectionsFinal <= connectionsBaseline + slack,
      detail: `${connectionsBaseline} at most in the first half, ${connectionsFinal} at most at the end (allowed +${slack})`,
    },
    {
      name: `order p95 stays ≤ ${limits.p95Drift}× its value over the first ${w.baselineEnd.toFixed(0)} s`,
      ok: p95Baseline !== null && p95Final !== null && p95Final <= p95Baseline * limits.p95Drift,
      detail:
        p95Baseline === null || p95Final === null
          ? 'no orders answered in a window'
          : `${p95Baseline.toFixed(0)} ms over the first ${w.baselineEnd.toFixed(0)} s → ${p95Final.toFixed(0)} ms at the end (median of the windows' p95 after ${w.finalStart.toFixed(0)} s)`,
    },
  ];
  return {
    windows: w,
    memoryBaseline,
    memoryFinal,
    p95Baseline,
    p95Final,
    connectionsBaseline,
    connectionsAllowed: connectionsBaseline + slack,
    connectionsFinal,
    checks,
  };
}
