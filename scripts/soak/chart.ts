import type { SoakSample, SoakVerdict } from './verdict';

/**
 * The soak as a picture (hand-written SVG, no dependency): four panels over the same time axis
 * (memory, event-loop delay, connections, order p95), pauses of the load shaded, the warm-up and
 * baseline windows marked, and each limit drawn where it would fail.
 */

const W = 960;
const PANEL_H = 150;
const GAP = 46;
const LEFT = 70;
const RIGHT = 20;
const TOP = 50;

interface Series {
  title: string;
  unit: string;
  values: (number | null)[];
  color: string;
  limit?: { value: number; label: string };
  baseline?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function soakChart(
  samples: readonly SoakSample[],
  verdict: SoakVerdict,
  durationS: number,
  title: string,
  pauses: readonly { from: number; to: number }[],
): string {
  const mb = (b: number) => b / 2 ** 20;
  const series: Series[] = [
    {
      title: 'memory: RSS of web + workers',
      unit: 'MB',
      values: samples.map((s) => mb(s.rssBytes)),
      color: '#2563eb',
      baseline: mb(verdict.memoryBaseline),
      limit: { value: mb(verdict.memoryBaseline) * 1.1, label: '+10 %' },
    },
    {
      title: 'event-loop delay: worst p99 of the processes',
      unit: 'ms',
      values: samples.map((s) => s.loopDelayP99Ms),
      color: '#9333ea',
    },
    {
      title: 'database connections',
      unit: '',
      values: samples.map((s) => s.connections),
      color: '#059669',
      limit: { value: verdict.connectionsAllowed, label: 'leak' },
    },
    {
      title: 'POST /api/orders p95',
      unit: 'ms',
      values: samples.map((s) => s.p95Ms),
      color: '#dc2626',
      ...(verdict.p95Baseline !== null
        ? {
            baseline: verdict.p95Baseline,
            limit: { value: verdict.p95Baseline * 2, label: '2× baseline' },
          }
        : {}),
    },
  ];
  const plotW = W - LEFT - RIGHT;
  const H = TOP + series.length * (PANEL_H + GAP) + 30;
  const x = (t: number) => LEFT + (Math.max(0, Math.min(durationS, t)) / durationS) * plotW;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="22" font-size="15" font-weight="600">${esc(title)}</text>`,
    `<text x="${LEFT}" y="40" fill="#555">${esc(
      verdict.checks
        .map((c) => `${c.ok ? 'PASS' : 'FAIL'} ${c.name.split(':')[0]!.split(' (')[0]}`)
        .join(' · '),
    )}</text>`,
  );
  series.forEach((s, i) => {
    const top = TOP + i * (PANEL_H + GAP) + 18;
    const present = s.values.filter((v): v is number => v !== null && Number.isFinite(v));
    const yMax = niceMax(Math.max(...present, s.limit?.value ?? 0, s.baseline ?? 0) * 1.05);
    const y = (v: number) => top + PANEL_H - (v / yMax) * PANEL_H;
    out.push(
      `<text x="${LEFT}" y="${top - 6}" font-weight="600">${esc(s.title)}${s.unit ? ` (${s.unit})` : ''}</text>`,
    );
    out.push(
      `<rect x="${x(verdict.windows.warmupEnd)}" y="${top}" width="${x(verdict.windows.baselineEnd) - x(verdict.windows.warmupEnd)}" height="${PANEL_H}" fill="#fef3c7"/>`,
    );
    out.push(
      `<rect x="${x(verdict.windows.finalStart)}" y="${top}" width="${x(durationS) - x(verdict.windows.finalStart)}" height="${PANEL_H}" fill="#e0f2fe"/>`,
    );
    for (const p of pauses)
      out.push(
        `<rect x="${x(p.from)}" y="${top}" width="${Math.max(1, x(p.to) - x(p.from))}" height="${PANEL_H}" fill="#e5e7eb"/>`,
      );
    for (let k = 0; k <= 4; k++) {
      const v = (yMax * k) / 4;
      out.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`);
      out.push(
        `<text x="${LEFT - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${v >= 100 ? v.toFixed(0) : +v.toFixed(1)}</text>`,
      );
    }
    if (s.baseline !== undefined && Number.isFinite(s.baseline))
      out.push(
        `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(s.baseline)}" y2="${y(s.baseline)}" stroke="#92400e" stroke-dasharray="2 3"/>`,
      );
    if (s.limit && Number.isFinite(s.limit.value)) {
      out.push(
        `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(s.limit.value)}" y2="${y(s.limit.value)}" stroke="#b91c1c" stroke-dasharray="6 4"/>`,
      );
      out.push(
        `<text x="${W - RIGHT - 4}" y="${y(s.limit.value) - 4}" text-anchor="end" fill="#b91c1c">${esc(s.limit.label)}</text>`,
      );
    }
    // A line broken where there is no value (the load paused: no orders, no p95).
    let d = '';
    let pen = false;
    samples.forEach((sample, j) => {
      const v = s.values[j];
      if (v === null || v === undefined || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(sample.t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const [j, sample] of samples.entries()) {
      const v = s.values[j];
      if (v !== null && v !== undefined && Number.isFinite(v))
        out.push(
          `<circle cx="${x(sample.t).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2" fill="${s.color}"/>`,
        );
    }
    out.push(
      `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${top + PANEL_H}" y2="${top + PANEL_H}" stroke="#111"/>`,
    );
    const step = niceMax(durationS / 8);
    for (let t = 0; t <= durationS + 1e-9; t += step) {
      out.push(
        `<line x1="${x(t)}" x2="${x(t)}" y1="${top + PANEL_H}" y2="${top + PANEL_H + 4}" stroke="#111"/>`,
      );
      out.push(
        `<text x="${x(t)}" y="${top + PANEL_H + 16}" text-anchor="middle" fill="#555">${t >= 120 ? `${(t / 60).toFixed(t % 60 ? 1 : 0)} min` : `${t.toFixed(0)} s`}</text>`,
      );
    }
  });
  const ly = H - 8;
  const legend: [string, string][] = [
    ['#fef3c7', 'baseline window (after warm-up)'],
    ['#e0f2fe', 'final window (judged)'],
    ['#e5e7eb', 'load paused'],
  ];
  legend.forEach(([c, label], k) => {
    out.push(
      `<rect x="${LEFT + k * 240}" y="${ly - 10}" width="12" height="12" fill="${c}" stroke="#999"/>`,
    );
    out.push(`<text x="${LEFT + k * 240 + 18}" y="${ly}" fill="#333">${esc(label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
