import { sql } from 'drizzle-orm';
import type { DbOrTx } from '@/db/client';
import { DURATION_BUCKETS, type MetricsSnapshot } from '@/db/queries/metrics';
import { countSignalEvents } from '@/db/queries/signal-events';

/** The value of one sample line of a Prometheus text, e.g. `rxsaga_jobs_queued{task="x"}`. */
export function metricSample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The all-time figures of a metrics snapshot: what archiving must not change. */
export function countersOf(s: MetricsSnapshot) {
  return {
    sagasStarted: s.sagasStarted,
    sagasCompleted: s.sagasCompleted,
    sagasCancelled: s.sagasCancelled,
    duration: { ...s.duration, sum: Math.round(s.duration.sum * 1e6) / 1e6 },
    compensationsByTask: s.compensationsByTask,
    failuresByTask: s.failuresByTask,
  };
}

/**
 * The same figures counted the slow way, from every saga row and signal event in the hot tables
 * (what the scrape did before the counters of migration 0013): the counters must equal it while
 * nothing is archived.
 */
export async function exactCounters(db: DbOrTx): Promise<ReturnType<typeof countersOf>> {
  const duration = sql`extract(epoch from completed_at - started_at)::float8`;
  const [row] = await db.execute<Record<string, number>>(sql`
    select count(*)::int as started,
      count(*) filter (where state = 'COMPLETED')::int as completed,
      count(*) filter (where state = 'CANCELLED')::int as cancelled,
      count(*) filter (where completed_at is not null)::int as finished,
      coalesce(sum(${duration}) filter (where completed_at is not null), 0)::float8 as duration_sum,
      ${sql.join(
        DURATION_BUCKETS.map(
          (le, i) =>
            sql`count(*) filter (where completed_at is not null and ${duration} <= ${le}::float8)::int as ${sql.identifier(`le_${i}`)}`,
        ),
        sql`, `,
      )}
    from order_fulfillment_sagas`);
  const signals = await countSignalEvents(db, null);
  return {
    sagasStarted: row!.started!,
    sagasCompleted: row!.completed!,
    sagasCancelled: row!.cancelled!,
    duration: {
      buckets: DURATION_BUCKETS.map((le, i) => ({ le, count: row![`le_${i}`]! })),
      sum: Math.round(row!.duration_sum! * 1e6) / 1e6,
      count: row!.finished!,
    },
    ...signals,
  };
}

/** The gauges of the alert facts counted the slow way, from every saga row (before migration 0017). */
export async function exactGauges(db: DbOrTx) {
  const [row] = await db.execute<{ waiting: number; stalled: number; in_flight: number }>(sql`
    select count(*) filter (where needs_intervention)::int as waiting,
      count(*) filter (where needs_intervention and intervention_reason like 'stalled:%')::int as stalled,
      count(*) filter (where not saga_state_is_terminal(state))::int as in_flight
    from order_fulfillment_sagas`);
  return {
    interventionsWaiting: row!.waiting,
    stalledSagas: row!.stalled,
    sagasInFlight: row!.in_flight,
  };
}
