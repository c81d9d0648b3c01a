import { sql, type SQL } from 'drizzle-orm';
import type { SagaState } from '@/lib/saga/model';
import type { DbOrTx } from '../client';

/**
 * Reads of the stats rollups (saga_stats_hourly, signal_event_stats_hourly: db/schema.ts,
 * migration 0002_stats_rollup) for the long windows of /api/stats. The rollups hold whole
 * hours; the hour a window starts in is read from the source tables, so every count is exact.
 * Percentiles come from the duration histogram: to its resolution (one bucket, ~9 % wide), not exact.
 */

/**
 * Bounds in seconds of saga_duration_bucket() (the migration): bucket 0 is [0, 1 ms]; bucket
 * b ≥ 1 is [1 ms · 2^((b−1)/8), 1 ms · 2^(b/8)).
 */
function durationBucketBounds(bucket: number): [number, number] {
  if (bucket <= 0) return [0, 0.001];
  return [0.001 * 2 ** ((bucket - 1) / 8), 0.001 * 2 ** (bucket / 8)];
}

/** Counts by duration bucket. */
export type Histogram = Map<number, number>;

export function addToHistogram(h: Histogram, bucket: number, count: number): void {
  h.set(bucket, (h.get(bucket) ?? 0) + count);
}

/**
 * percentile_cont(p) read from a histogram, the same way: the values at ranks ⌊p·(n−1)⌋ and
 * ⌈p·(n−1)⌉ interpolated linearly, each value estimated as spread evenly across its bucket. So
 * the result is within a bucket's width (~9 %) of the exact figure; null for an empty histogram.
 */
export function histogramPercentile(h: Histogram, p: number): number | null {
  const buckets = [...h].filter(([, c]) => c > 0).sort((a, b) => a[0] - b[0]);
  const n = buckets.reduce((sum, [, c]) => sum + c, 0);
  if (n === 0) return null;
  const valueAt = (rank: number): number => {
    let below = 0;
    for (const [bucket, c] of buckets) {
      if (rank < below + c) {
        const [lo, hi] = durationBucketBounds(bucket);
        return lo + ((rank - below + 0.5) / c) * (hi - lo);
      }
      below += c;
    }
    return durationBucketBounds(buckets.at(-1)![0])[1];
  };
  const rank = p * (n - 1);
  const lower = valueAt(Math.floor(rank));
  return lower + (rank - Math.floor(rank)) * (valueAt(Math.ceil(rank)) - lower);
}

/** The first whole hour at or after `t`: where the rollups take over from the source tables. */
function nextWholeHour(t: Date): Date {
  return new Date(Math.ceil(t.getTime() / 3600_000) * 3600_000);
}

export type FinishedRollupRow = {
  started_bin: string;
  finished_bin: string;
  bucket: number;
  completed: number;
  cancelled: number;
  compensated: number;
  needs_intervention: number;
  micros: number;
};

/**
 * Finished sagas started at or after `from` (null: all), grouped by chart bin of start and of
 * finish time and by duration bucket. `bin` maps a timestamp column to its chart bin (whole
 * hours, epoch-aligned, so an hour of the rollup falls in exactly one bin).
 */
export async function readFinishedRollup(
  db: DbOrTx,
  from: Date | null,
  bin: (column: SQL) => SQL,
): Promise<FinishedRollupRow[]> {
  const edge = from ? nextWholeHour(from) : null;
  const fromSagas = edge
    ? sql`union all
      select started_at, completed_at, saga_duration_bucket(extract(epoch from completed_at - started_at)::float8),
        (state = 'COMPLETED')::int, (state = 'CANCELLED')::int, (cardinality(compensations_done) > 0)::int,
        needs_intervention::int, round(extract(epoch from completed_at - started_at) * 1000000)::bigint
      from order_fulfillment_sagas
      where started_at >= ${from!.toISOString()}::timestamptz and started_at < ${edge.toISOString()}::timestamptz
        and saga_state_is_terminal(state) and completed_at is not null`
    : sql``;
  return db.execute<FinishedRollupRow>(sql`
    with f (started_hour, finished_hour, duration_bucket, completed, cancelled, compensated, needs_intervention, micros) as (
      select started_hour, finished_hour, duration_bucket, completed, cancelled, compensated, needs_intervention,
        duration_micros_sum
      from saga_stats_hourly ${edge ? sql`where started_hour >= ${edge.toISOString()}::timestamptz` : sql``}
      ${fromSagas}
    )
    select ${bin(sql`started_hour`)} as started_bin, ${bin(sql`finished_hour`)} as finished_bin,
      duration_bucket::int as bucket, sum(completed)::int as completed, sum(cancelled)::int as cancelled,
      sum(compensated)::int as compensated, sum(needs_intervention)::int as needs_intervention,
      sum(micros)::float8 as micros
    from f group by 1, 2, 3`);
}

/** Sagas not finished (few, whatever the history), by state and chart bin of start time. */
export async function readInFlight(db: DbOrTx, from: Date | null, bin: (column: SQL) => SQL) {
  return db.execute<{
    state: SagaState;
    started_bin: string;
    n: number;
    needs_intervention: number;
  }>(sql`
    select state, ${bin(sql`started_at`)} as started_bin, count(*)::int as n,
      count(*) filter (where needs_intervention)::int as needs_intervention
    from order_fulfillment_sagas
    where not saga_state_is_terminal(state)
      ${from ? sql`and started_at >= ${from.toISOString()}::timestamptz` : sql``}
    group by 1, 2`);
}

/** Signal events recorded at or after `since` (null: all) by chart bin, type and task. */
export async function readSignalRollup(db: DbOrTx, since: Date | null, bin: (column: SQL) => SQL) {
  const edge = since ? nextWholeHour(since) : null;
  return db.execute<{ bin: string; type: string; task: string | null; n: number }>(sql`
    with e (hour, type, task, n) as (
      select hour, type, nullif(task, ''), count from signal_event_stats_hourly
      ${edge ? sql`where hour >= ${edge.toISOString()}::timestamptz` : sql``}
      ${
        edge
          ? sql`union all
      select recorded_at, type,
        case when type in ('order_fulfillment_saga.attempt_failed', 'order_fulfillment_saga.intervention_required')
          then payload->>'task' end, 1
      from events where event_type_is_signal(type) and recorded_at >= ${since!.toISOString()}::timestamptz
        and recorded_at < ${edge.toISOString()}::timestamptz`
          : sql``
      }
    )
    select ${bin(sql`hour`)} as bin, type, task, sum(n)::int as n from e group by 1, 2, 3`);
}
