import { sql } from 'drizzle-orm';
import type { AlertFacts } from '@/lib/alerts/rules';
import { TASKS } from '@/lib/saga/model';
import { measureAlertFacts } from '../alerts';
import type { DbOrTx } from '../client';
import { toSignalCounts, type SignalCounts } from './signal-events';

/**
 * What /api/metrics reports, read from the database at scrape time. Workers are separate
 * processes (any number, on any machine): counting in the database lets every web instance
 * report the whole system, and counters survive restarts. The all-time counters and the
 * duration histogram are kept by triggers in metric_counters (db/schema.ts, migration
 * 0013_metric_counters), so a scrape reads a few dozen rows whatever the history, and they
 * stay monotonic when history is archived; the gauges count only what is in flight.
 */

/** Upper bounds (seconds) of the saga duration histogram: a clean run takes a second or two. */
export const DURATION_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export interface MetricsSnapshot extends SignalCounts {
  /** The database's clock when the snapshot was read (Unix seconds, microsecond precision). */
  takenAt: number;
  sagasStarted: number;
  sagasCompleted: number;
  sagasCancelled: number;
  inFlight: number;
  needingIntervention: number;
  jobsQueued: { task: string; count: number }[];
  duration: { buckets: { le: number; count: number }[]; sum: number; count: number };
  /** What the alert rules measure, for the Prometheus rules of deploy/prometheus. */
  alertFacts: AlertFacts;
}

export async function readMetricsSnapshot(db: DbOrTx): Promise<MetricsSnapshot> {
  const [counterRows, jobs, alertFacts] = await Promise.all([
    // One statement, one snapshot: a compaction (compact_metric_counters) moves deltas into
    // the counters atomically, so each delta is read exactly once.
    db.execute<{ taken_at: number; name: string | null; value: number }>(sql`
      select extract(epoch from clock_timestamp())::float8 as taken_at, c.name, c.value
      from (select 1) one left join (
        select name, sum(value)::float8 as value
        from (select name, value from metric_counters
              union all select name, value from metric_counter_deltas) all_counters
        group by name) c on true`),
    db.execute<{ task: string; n: number }>(sql`
      select task_identifier as task, count(*)::int as n from graphile_worker.jobs group by 1`),
    measureAlertFacts(db),
  ]);
  const counters = new Map<string, number>();
  for (const r of counterRows) if (r.name !== null) counters.set(r.name, r.value);
  const counter = (name: string) => counters.get(name) ?? 0;
  const queued = new Map<string, number>(TASKS.map((t) => [t, 0]));
  for (const j of jobs) queued.set(j.task, j.n);
  let below = 0;
  const buckets = DURATION_BUCKETS.map((le, i) => ({
    le,
    count: (below += counter(`duration_bucket:${i}`)),
  }));
  return {
    takenAt: counterRows[0]?.taken_at ?? 0,
    sagasStarted: counter('sagas_started'),
    sagasCompleted: counter('sagas_completed'),
    sagasCancelled: counter('sagas_cancelled'),
    // The alert facts count these already (through the partial in-flight and intervention indexes).
    inFlight: alertFacts.sagasInFlight,
    needingIntervention: alertFacts.interventionsWaiting,
    jobsQueued: [...queued].map(([task, count]) => ({ task, count })),
    duration: {
      buckets,
      sum: counter('duration_micros') / 1e6,
      count: below + counter(`duration_bucket:${DURATION_BUCKETS.length}`),
    },
    ...signalCountsOf(counters),
    alertFacts,
  };
}

/** The signal counters (`signal:<type>:<task>`) as the stats' SignalCounts. */
function signalCountsOf(counters: ReadonlyMap<string, number>): SignalCounts {
  const byType = new Map<string, number>();
  const byTask: { type: string; task: string | null; n: number }[] = [];
  for (const [name, n] of counters) {
    const m = /^signal:([^:]+):(.*)$/.exec(name);
    if (!m) continue;
    const [, type, task] = m as unknown as [string, string, string];
    byType.set(type, (byType.get(type) ?? 0) + n);
    byTask.push({ type, task: task || null, n });
  }
  return toSignalCounts(
    [...byType].map(([type, n]) => ({ type, n })),
    byTask,
  );
}

/**
 * Folds the counters' deltas in (every worker's sweep): keeps what a scrape sums small. Returns
 * how many deltas it folded; 0 when another process was folding them.
 */
export async function compactMetricCounters(db: DbOrTx): Promise<number> {
  const [row] = await db.execute<{ n: number }>(sql`select compact_metric_counters() as n`);
  return row?.n ?? 0;
}
