import { sql } from 'drizzle-orm';
import type { AlertFacts } from '@/lib/alerts/rules';
import { TASKS } from '@/lib/saga/model';
import { measureAlertFacts } from '../alerts';
import type { DbOrTx } from '../client';
import { countSignalEvents, type SignalCounts } from './signal-events';

/**
 * What /api/metrics reports, read from the database at scrape time. Workers are separate
 * processes (any number, on any machine): counting in the database lets every web instance
 * report the whole system, and counters survive restarts. Counters are monotonic because the
 * tables they count only grow (sagas are never deleted, events are append-only).
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
  const duration = sql`extract(epoch from completed_at - started_at)::float8`;
  const bucketColumns = sql.join(
    DURATION_BUCKETS.map(
      (le, i) =>
        sql`count(*) filter (where completed_at is not null and ${duration} <= ${le}::float8)::int as ${sql.identifier(`le_${i}`)}`,
    ),
    sql`, `,
  );
  // One pass over the saga table: state counts and the duration histogram together. This is
  // the costly part of a scrape (linear in sagas); see README "Metrics" for the trade-off.
  const [[sagas], jobs, signals, alertFacts] = await Promise.all([
    db.execute<Record<string, number>>(sql`
      select extract(epoch from clock_timestamp())::float8 as taken_at,
        count(*)::int as started,
        count(*) filter (where state = 'COMPLETED')::int as completed,
        count(*) filter (where state = 'CANCELLED')::int as cancelled,
        count(*) filter (where not saga_state_is_terminal(state))::int as in_flight,
        count(*) filter (where needs_intervention)::int as needing_intervention,
        count(*) filter (where completed_at is not null)::int as finished,
        coalesce(sum(${duration}) filter (where completed_at is not null), 0)::float8 as duration_sum,
        ${bucketColumns}
      from order_fulfillment_sagas`),
    db.execute<{ task: string; n: number }>(sql`
      select task_identifier as task, count(*)::int as n from graphile_worker.jobs group by 1`),
    countSignalEvents(db, null),
    measureAlertFacts(db),
  ]);
  const row = sagas ?? {};
  const queued = new Map<string, number>(TASKS.map((t) => [t, 0]));
  for (const j of jobs) queued.set(j.task, j.n);
  return {
    takenAt: row.taken_at ?? 0,
    sagasStarted: row.started ?? 0,
    sagasCompleted: row.completed ?? 0,
    sagasCancelled: row.cancelled ?? 0,
    inFlight: row.in_flight ?? 0,
    needingIntervention: row.needing_intervention ?? 0,
    jobsQueued: [...queued].map(([task, count]) => ({ task, count })),
    duration: {
      buckets: DURATION_BUCKETS.map((le, i) => ({ le, count: row[`le_${i}`] ?? 0 })),
      sum: row.duration_sum ?? 0,
      count: row.finished ?? 0,
    },
    ...signals,
    alertFacts,
  };
}
