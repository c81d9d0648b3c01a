import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { EVENT_TYPES } from '@/lib/saga/events';
import { SAGA_STATES, TERMINAL_STATES } from '@/lib/saga/model';
import { useSagaTestDatabase } from '@/test/saga-harness';
import { DURATION_BUCKETS } from './queries/metrics';
import { SIGNAL_EVENT_TYPES } from './schema';

const ctx = useSagaTestDatabase();

/**
 * Migration 0008_sql_definitions gives SQL the two definitions it shares with TypeScript:
 * saga_state_is_terminal() (TERMINAL_STATES) and event_type_is_signal() (SIGNAL_EVENT_TYPES);
 * 0013_metric_counters a third, saga_metrics_duration_bucket() (DURATION_BUCKETS).
 * Changing a constant without a migration that changes its function fails here.
 */
describe('SQL definitions match the TypeScript constants', () => {
  test('saga_state_is_terminal(state) is TERMINAL_STATES, for every state', async () => {
    const rows = await ctx.db.execute<{ state: string; terminal: boolean }>(sql`
      select s as state, saga_state_is_terminal(s) as terminal
      from unnest(${`{${SAGA_STATES.join(',')}}`}::text[]) s`);
    assert.equal(rows.length, SAGA_STATES.length);
    for (const r of rows) {
      assert.equal(r.terminal, TERMINAL_STATES.includes(r.state as never), r.state);
    }
  });

  test('event_type_is_signal(type) is SIGNAL_EVENT_TYPES, for every event type', async () => {
    const rows = await ctx.db.execute<{ type: string; signal: boolean }>(sql`
      select t as type, event_type_is_signal(t) as signal
      from unnest(${`{${EVENT_TYPES.join(',')}}`}::text[]) t`);
    assert.equal(rows.length, EVENT_TYPES.length);
    for (const r of rows) {
      assert.equal(r.signal, (SIGNAL_EVENT_TYPES as readonly string[]).includes(r.type), r.type);
    }
  });

  test('saga_metrics_duration_bucket(seconds) is the first of DURATION_BUCKETS at or above it', async () => {
    const probes = [0, 0.25, ...DURATION_BUCKETS.flatMap((le) => [le - 1e-6, le, le + 1e-6]), 1e6];
    const rows = await ctx.db.execute<{ seconds: number; bucket: number }>(sql`
      select s as seconds, saga_metrics_duration_bucket(s) as bucket
      from unnest(${`{${probes.join(',')}}`}::float8[]) s`);
    assert.equal(rows.length, probes.length);
    for (const r of rows) {
      const first = DURATION_BUCKETS.findIndex((le) => r.seconds <= le);
      assert.equal(r.bucket, first === -1 ? DURATION_BUCKETS.length : first, String(r.seconds));
    }
  });

  test('the in-flight and signal partial indexes serve queries written with the functions', async () => {
    // The planner inlines the functions on both sides, so the predicates still match.
    await ctx.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      const plan = async (q: ReturnType<typeof sql>) =>
        (await tx.execute<{ 'QUERY PLAN': string }>(sql`explain ${q}`))
          .map((r) => r['QUERY PLAN'])
          .join('\n');
      assert.match(
        await plan(sql`select saga_id from order_fulfillment_sagas
          where not saga_state_is_terminal(state) and updated_at < now()`),
        /sagas_in_flight_updated_at_idx/,
      );
      // A stats window's in-flight counts read only the in-flight sagas started in it.
      assert.match(
        await plan(sql`select state, count(*) filter (where needs_intervention) from order_fulfillment_sagas
          where not saga_state_is_terminal(state) and started_at >= now() - interval '1 day'
          group by state`),
        /sagas_in_flight_started_at_idx/,
      );
      assert.match(
        await plan(sql`select count(*) from events where event_type_is_signal(type)
          and recorded_at > now() - interval '1 hour'`),
        // On each event partition, the parent's partial index under that partition's name.
        /Index Scan on events_(\d{4}m\d\d|default)_type_recorded_at_idx/,
      );
    });
  });
});
