import type { DashboardResult } from './dashboard';
import { round, table } from './report';

/** How much slower a read may be on a larger history than on a smaller one (issue 15: 3 M vs 1 M). */
export const MAX_GROWTH = 1.5;

export interface GrowthRow {
  name: string;
  p50Ratio: number;
  p95Ratio: number;
  met: boolean;
}

/**
 * Each call of this run against the same call of an earlier `--json` run on a smaller history:
 * the ratios of p50 and of p95, met when neither exceeds MAX_GROWTH.
 */
export function compareDashboards(
  now: Pick<DashboardResult, 'sagas' | 'calls'>,
  before: Pick<DashboardResult, 'sagas' | 'calls'>,
): GrowthRow[] {
  return now.calls.flatMap((c) => {
    const b = before.calls.find((x) => x.name === c.name);
    if (!b) return [];
    const p50Ratio = round(c.p50Ms / b.p50Ms, 2);
    const p95Ratio = round(c.p95Ms / b.p95Ms, 2);
    return [
      { name: c.name, p50Ratio, p95Ratio, met: p50Ratio <= MAX_GROWTH && p95Ratio <= MAX_GROWTH },
    ];
  });
}

export function printGrowth(
  rows: GrowthRow[],
  now: Pick<DashboardResult, 'sagas' | 'calls'>,
  before: Pick<DashboardResult, 'sagas' | 'calls'>,
): void {
  const ms = (r: Pick<DashboardResult, 'calls'>, name: string) =>
    r.calls.find((c) => c.name === name)!;
  console.log(
    `\nGrowth: ${now.sagas.toLocaleString('en')} sagas against ${before.sagas.toLocaleString('en')} (goal: no read more than ${MAX_GROWTH}× slower)\n`,
  );
  console.log(
    table(
      ['call', 'p50 ms', 'ratio', 'p95 ms', 'ratio', `≤ ${MAX_GROWTH}×`],
      rows.map((r) => [
        r.name,
        `${ms(before, r.name).p50Ms} → ${ms(now, r.name).p50Ms}`,
        `${r.p50Ratio}×`,
        `${ms(before, r.name).p95Ms} → ${ms(now, r.name).p95Ms}`,
        `${r.p95Ratio}×`,
        r.met ? 'yes' : 'NO',
      ]),
    ),
  );
}
