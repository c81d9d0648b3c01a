import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import type { Database } from '@/db/client';

/**
 * The stats rollups (saga_stats_hourly, signal_event_stats_hourly) must equal a recomputation
 * from the saga table and the events, whatever wrote them (live steps, replay, direct inserts).
 * Rows whose counts went back to zero (a saga that left a finished state) are left out.
 */
export async function assertStatsRollupsMatch(
  db: Database,
): Promise<{ finished: number; signals: number }> {
  const sagasRollup = await db.execute(sql`
    select started_hour, finished_hour, duration_bucket, sum(completed)::int as completed,
      sum(cancelled)::int as cancelled, sum(compensated)::int as compensated,
      sum(needs_intervention)::int as needs_intervention, sum(duration_micros_sum)::text as micros
    from saga_stats_hourly group by 1, 2, 3 having sum(completed + cancelled) <> 0 order by 1, 2, 3`);
  const sagasRecomputed = await db.execute(sql`
    select date_bin('1 hour', started_at, 'epoch') as started_hour, date_bin('1 hour', completed_at, 'epoch') as finished_hour,
      saga_duration_bucket(extract(epoch from completed_at - started_at)::float8) as duration_bucket,
      count(*) filter (where state = 'COMPLETED')::int as completed, count(*) filter (where state = 'CANCELLED')::int as cancelled,
      count(*) filter (where cardinality(compensations_done) > 0)::int as compensated,
      count(*) filter (where needs_intervention)::int as needs_intervention,
      sum(round(extract(epoch from completed_at - started_at) * 1000000)::bigint)::text as micros
    from order_fulfillment_sagas where saga_state_is_terminal(state) group by 1, 2, 3 order by 1, 2, 3`);
  assert.deepEqual(
    JSON.parse(JSON.stringify(sagasRollup)),
    JSON.parse(JSON.stringify(sagasRecomputed)),
  );

  const signalsRollup = await db.execute(sql`
    select hour, type, task, sum(count)::int as n from signal_event_stats_hourly group by 1, 2, 3 order by 1, 2, 3`);
  const signalsRecomputed = await db.execute(sql`
    select date_bin('1 hour', recorded_at, 'epoch') as hour, type,
      case when type in ('order_fulfillment_saga.attempt_failed', 'order_fulfillment_saga.intervention_required')
        then coalesce(payload->>'task', '') else '' end as task, count(*)::int as n
    from events where event_type_is_signal(type)
    group by 1, 2, 3 order by 1, 2, 3`);
  assert.deepEqual(
    JSON.parse(JSON.stringify(signalsRollup)),
    JSON.parse(JSON.stringify(signalsRecomputed)),
  );
  return {
    finished: sagasRollup.reduce((n, r) => n + Number(r.completed) + Number(r.cancelled), 0),
    signals: signalsRollup.reduce((n, r) => n + Number(r.n), 0),
  };
}
