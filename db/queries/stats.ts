import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { SAGA_STATES, type SagaState } from '@/lib/saga/model';
import type { DbOrTx } from '../client';
import {
  COMPENSATION_EVENT_TYPES,
  countSignalEvents,
  toSignalCounts,
  type SignalCounts,
} from './signal-events';
import {
  addToHistogram,
  histogramPercentile,
  readFinishedRollup,
  readInFlight,
  readSignalRollup,
  type Histogram,
} from './stats-rollup';

/**
 * GET /api/stats and the dashboard's KPI cards and charts. Definitions (DESIGN.md), over sagas
 * started in the window: successRate = COMPLETED ÷ (COMPLETED + CANCELLED); durations are
 * completedAt − startedAt of finished sagas; compensationFrequency = share of finished sagas
 * that ran at least one compensation; countsByState counts every saga by its current state.
 * A ratio or duration with nothing finished to measure is null, not 0: "no data" is not "0 %".
 */

export const STATS_WINDOWS = ['1h', '24h', '7d', 'all'] as const;
export type StatsWindow = (typeof STATS_WINDOWS)[number];
export const statsQuerySchema = z.object({ window: z.enum(STATS_WINDOWS).default('24h') });

const WINDOW_SECONDS: Record<Exclude<StatsWindow, 'all'>, number> = {
  '1h': 3600,
  '24h': 86_400,
  '7d': 604_800,
};
/** Chart buckets: a few dozen points whatever the window. */
const BUCKET_SECONDS = [300, 3600, 6 * 3600, 86_400, 7 * 86_400, 30 * 86_400];
const MAX_BUCKETS = 48;
/**
 * 24h, 7d and all read the hourly rollups (stats-rollup.ts) once the window holds this many
 * finished sagas, so their cost follows the hours they span, not the sagas in them: every count
 * stays exact (the partial hour at the window's start is read from the saga table), but p50 /
 * p95 are then read from the duration histogram, to its resolution (one bucket, ~9 % wide).
 * Below it the exact queries are cheap (a few milliseconds) and exact.
 */
const ROLLUP_MIN_FINISHED = 5_000;
const ROLLUP_WINDOWS: readonly StatsWindow[] = ['24h', '7d', 'all'];

export interface StatsBucket {
  start: string;
  started: number;
  completed: number;
  cancelled: number;
  compensations: number;
  p50DurationSeconds: number | null;
  p95DurationSeconds: number | null;
}

export interface Stats extends SignalCounts {
  window: StatsWindow;
  since: string | null;
  total: number;
  inFlight: number;
  needsIntervention: number;
  successRate: number | null;
  avgDurationSeconds: number | null;
  p50DurationSeconds: number | null;
  p95DurationSeconds: number | null;
  compensationFrequency: number | null;
  countsByState: Record<SagaState, number>;
  bucketSeconds: number;
  series: StatsBucket[];
}

type SummaryRow = {
  total: number;
  completed: number;
  cancelled: number;
  needs_intervention: number;
  compensated: number;
  avg: number | null;
  p50: number | null;
  p95: number | null;
};

const FINISHED = sql`saga_state_is_terminal(state)`;
const DURATION = sql`extract(epoch from completed_at - started_at)::float8`;
const round3 = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);

export interface StatsOptions {
  /** Tests lower it to compare the rollup path with the exact one on a small history. */
  rollupMinFinished?: number;
}

export async function getStats(
  db: DbOrTx,
  window: StatsWindow,
  options: StatsOptions = {},
): Promise<Stats> {
  // One clock for every query below: the database's, not this process's.
  // Archived sagas (jobs/archive-history.ts) count in `all` through the rollups only.
  const [clock] = await db.execute<{
    now: string;
    first_started: string | null;
    archived: boolean;
  }>(sql`
    select now() as now, least((select min(started_at) from order_fulfillment_sagas),
      (select min(started_at) from archived_sagas)) as first_started,
      exists (select 1 from archived_sagas) as archived`);
  const now = new Date(clock!.now);
  const from =
    window === 'all'
      ? new Date(
          Math.min(
            clock!.first_started ? new Date(clock!.first_started).getTime() : Infinity,
            now.getTime() - 3600_000,
          ),
        )
      : new Date(now.getTime() - WINDOW_SECONDS[window] * 1000);
  const inWindow =
    window === 'all' ? sql`true` : sql`started_at >= ${from.toISOString()}::timestamptz`;
  const spanSeconds = (now.getTime() - from.getTime()) / 1000;
  const bucketSeconds =
    BUCKET_SECONDS.find((b) => spanSeconds / b <= MAX_BUCKETS) ??
    BUCKET_SECONDS[BUCKET_SECONDS.length - 1]!;
  if (ROLLUP_WINDOWS.includes(window)) {
    const rolledUp = await getRolledUpStats(
      db,
      window,
      from,
      now,
      bucketSeconds,
      // The hot tables no longer hold archived sagas: only the rollups count them all.
      window === 'all' && clock!.archived ? 0 : (options.rollupMinFinished ?? ROLLUP_MIN_FINISHED),
    );
    if (rolledUp) return rolledUp;
  }

  // Independent reads over the same window: issued together, on separate pool connections
  // (pipelined on one when `db` is a transaction), so a wide window costs the slowest of them
  // rather than their sum.
  const [[summary], byState, signals, series] = await Promise.all([
    db.execute<SummaryRow>(sql`
      select count(*)::int as total,
        count(*) filter (where state = 'COMPLETED')::int as completed,
        count(*) filter (where state = 'CANCELLED')::int as cancelled,
        count(*) filter (where needs_intervention)::int as needs_intervention,
        count(*) filter (where ${FINISHED} and cardinality(compensations_done) > 0)::int as compensated,
        avg(${DURATION}) filter (where ${FINISHED}) as avg,
        percentile_cont(0.5) within group (order by ${DURATION}) filter (where ${FINISHED}) as p50,
        percentile_cont(0.95) within group (order by ${DURATION}) filter (where ${FINISHED}) as p95
      from order_fulfillment_sagas where ${inWindow}`),
    db.execute<{ state: SagaState; n: number }>(sql`
      select state, count(*)::int as n from order_fulfillment_sagas where ${inWindow} group by state`),
    countSignalEvents(db, window === 'all' ? null : from),
    getSeries(db, from, now, bucketSeconds, inWindow),
  ]);
  const s = summary!;
  const countsByState = Object.fromEntries(SAGA_STATES.map((st) => [st, 0])) as Record<
    SagaState,
    number
  >;
  for (const row of byState) countsByState[row.state] = row.n;

  const finished = s.completed + s.cancelled;
  return {
    window,
    since: window === 'all' ? null : from.toISOString(),
    total: s.total,
    inFlight: s.total - finished,
    needsIntervention: s.needs_intervention,
    successRate: finished > 0 ? s.completed / finished : null,
    avgDurationSeconds: round3(s.avg),
    p50DurationSeconds: round3(s.p50),
    p95DurationSeconds: round3(s.p95),
    compensationFrequency: finished > 0 ? s.compensated / finished : null,
    countsByState,
    ...signals,
    bucketSeconds,
    series,
  };
}

/**
 * Per bucket: sagas started (by start time), completed / cancelled and their duration
 * percentiles (by finish time), and compensations run (by event time). Empty buckets are
 * zeros, so a chart's x axis is continuous.
 */
async function getSeries(db: DbOrTx, from: Date, now: Date, bucketSeconds: number, inWindow: SQL) {
  const step = sql`make_interval(secs => ${bucketSeconds})`;
  const bin = (column: SQL) => sql`date_bin(${step}, ${column}, 'epoch'::timestamptz)`;
  const compTypes = sql.join(
    COMPENSATION_EVENT_TYPES.map((t) => sql`${t}`),
    sql`, `,
  );
  const rows = await db.execute<{
    start: string;
    started: number;
    completed: number;
    cancelled: number;
    compensations: number;
    p50: number | null;
    p95: number | null;
  }>(sql`
    with buckets as (
      select generate_series(${bin(sql`${from.toISOString()}::timestamptz`)}, ${now.toISOString()}::timestamptz, ${step}) as start
    ), started as (
      select ${bin(sql`started_at`)} as start, count(*)::int as n from order_fulfillment_sagas where ${inWindow} group by 1
    ), finished as (
      select ${bin(sql`completed_at`)} as start,
        count(*) filter (where state = 'COMPLETED')::int as completed,
        count(*) filter (where state = 'CANCELLED')::int as cancelled,
        percentile_cont(0.5) within group (order by ${DURATION}) as p50,
        percentile_cont(0.95) within group (order by ${DURATION}) as p95
      from order_fulfillment_sagas where ${inWindow} and ${FINISHED} group by 1
    ), compensations as (
      select ${bin(sql`recorded_at`)} as start, count(*)::int as n from events
      where type in (${compTypes}) and recorded_at >= ${from.toISOString()}::timestamptz group by 1
    )
    select b.start, coalesce(s.n, 0) as started, coalesce(f.completed, 0) as completed,
      coalesce(f.cancelled, 0) as cancelled, coalesce(c.n, 0) as compensations, f.p50, f.p95
    from buckets b
    left join started s on s.start = b.start
    left join finished f on f.start = b.start
    left join compensations c on c.start = b.start
    order by b.start`);
  return rows.map((r): StatsBucket => ({
    start: new Date(r.start).toISOString(),
    started: r.started,
    completed: r.completed,
    cancelled: r.cancelled,
    compensations: r.compensations,
    p50DurationSeconds: round3(r.p50),
    p95DurationSeconds: round3(r.p95),
  }));
}

/**
 * The same figures from the rollups and the (few) in-flight sagas, or null when the window holds
 * fewer than ROLLUP_MIN_FINISHED finished sagas (the caller then runs the exact queries). Counts,
 * rates and the average are exact; percentiles are to the histogram's resolution.
 */
async function getRolledUpStats(
  db: DbOrTx,
  window: StatsWindow,
  from: Date,
  now: Date,
  bucketSeconds: number,
  minFinished: number,
): Promise<Stats | null> {
  const since = window === 'all' ? null : from;
  const step = sql`make_interval(secs => ${bucketSeconds})`;
  const bin = (column: SQL) => sql`date_bin(${step}, ${column}, 'epoch'::timestamptz)`;
  const finishedRows = await readFinishedRollup(db, since, bin);
  let completed = 0;
  let cancelled = 0;
  for (const r of finishedRows) {
    completed += r.completed;
    cancelled += r.cancelled;
  }
  const finished = completed + cancelled;
  if (finished === 0 || finished < minFinished) return null;

  const [inFlightRows, signalRows] = await Promise.all([
    readInFlight(db, since, bin),
    readSignalRollup(db, since, bin),
  ]);

  const key = (t: string | Date) => new Date(t).getTime();
  const series = new Map<
    number,
    { started: number; completed: number; cancelled: number; compensations: number; h: Histogram }
  >();
  const binStart = Math.floor(from.getTime() / (bucketSeconds * 1000)) * bucketSeconds * 1000;
  for (let t = binStart; t <= now.getTime(); t += bucketSeconds * 1000) {
    series.set(t, { started: 0, completed: 0, cancelled: 0, compensations: 0, h: new Map() });
  }
  const countsByState = Object.fromEntries(SAGA_STATES.map((st) => [st, 0])) as Record<
    SagaState,
    number
  >;
  countsByState.COMPLETED = completed;
  countsByState.CANCELLED = cancelled;
  const all: Histogram = new Map();
  let compensated = 0;
  let needsIntervention = 0;
  let micros = 0;
  for (const r of finishedRows) {
    compensated += r.compensated;
    needsIntervention += r.needs_intervention;
    micros += r.micros;
    const n = r.completed + r.cancelled;
    addToHistogram(all, r.bucket, n);
    const startedBin = series.get(key(r.started_bin));
    if (startedBin) startedBin.started += n;
    const finishedBin = series.get(key(r.finished_bin));
    if (finishedBin) {
      finishedBin.completed += r.completed;
      finishedBin.cancelled += r.cancelled;
      addToHistogram(finishedBin.h, r.bucket, n);
    }
  }
  let inFlight = 0;
  for (const r of inFlightRows) {
    inFlight += r.n;
    needsIntervention += r.needs_intervention;
    countsByState[r.state] += r.n;
    const startedBin = series.get(key(r.started_bin));
    if (startedBin) startedBin.started += r.n;
  }

  const byType = new Map<string, number>();
  const byTask: { type: string; task: string | null; n: number }[] = [];
  for (const r of signalRows) {
    byType.set(r.type, (byType.get(r.type) ?? 0) + r.n);
    if (
      r.type === 'order_fulfillment_saga.attempt_failed' ||
      r.type === 'order_fulfillment_saga.intervention_required'
    ) {
      byTask.push(r);
    }
    if (COMPENSATION_EVENT_TYPES.includes(r.type)) {
      const b = series.get(key(r.bin));
      if (b) b.compensations += r.n;
    }
  }

  return {
    window,
    since: since ? since.toISOString() : null,
    total: finished + inFlight,
    inFlight,
    needsIntervention,
    successRate: completed / finished,
    avgDurationSeconds: round3(micros / 1e6 / finished),
    p50DurationSeconds: round3(histogramPercentile(all, 0.5)),
    p95DurationSeconds: round3(histogramPercentile(all, 0.95)),
    compensationFrequency: compensated / finished,
    countsByState,
    ...toSignalCounts(
      [...byType].map(([type, n]) => ({ type, n })),
      byTask,
    ),
    bucketSeconds,
    series: [...series].map(([start, b]): StatsBucket => ({
      start: new Date(start).toISOString(),
      started: b.started,
      completed: b.completed,
      cancelled: b.cancelled,
      compensations: b.compensations,
      p50DurationSeconds: round3(histogramPercentile(b.h, 0.5)),
      p95DurationSeconds: round3(histogramPercentile(b.h, 0.95)),
    })),
  };
}
