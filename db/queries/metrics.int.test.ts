import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { compactMetricCounters, readMetricsSnapshot } from '@/db/queries/metrics';
import { replayProjections } from '@/db/replay';
import { createOrder } from '@/server/commands/create-order';
import { measureAlertFacts } from '@/db/alerts';
import { countersOf, exactCounters, exactGauges } from '@/test/metrics';
import {
  orderInput,
  useSagaTestDatabase,
  waitForSettled,
  withPostalCode,
  withWorker,
} from '@/test/saga-harness';
import { insertSagaRows } from '@/test/saga-rows';

const ctx = useSagaTestDatabase();

/** The alert facts' gauges, and the same read straight from the counters (migration 0017). */
const gauges = async () => {
  const f = await measureAlertFacts(ctx.db);
  const [c] = await ctx.db.execute<{ waiting: number; stalled: number }>(sql`
    select coalesce(sum(value) filter (where name = 'sagas_needing_intervention'), 0)::int as waiting,
      coalesce(sum(value) filter (where name = 'sagas_stalled'), 0)::int as stalled
    from (select name, value from metric_counters
          union all select name, value from metric_counter_deltas) counters`);
  assert.deepEqual([c!.waiting, c!.stalled], [f.interventionsWaiting, f.stalledSagas]);
  return {
    interventionsWaiting: f.interventionsWaiting,
    stalledSagas: f.stalledSagas,
    sagasInFlight: f.sagasInFlight,
  };
};

const counted = async () => countersOf(await readMetricsSnapshot(ctx.db));
const deltas = async () =>
  (
    await ctx.db.execute<{ n: number }>(sql`select count(*)::int as n from metric_counter_deltas`)
  )[0]!.n;

/**
 * The scrape's all-time figures come from counters that triggers keep (migration 0013), not from
 * a pass over every saga and event: they must equal that pass, whatever wrote the rows.
 */
describe('metrics counters', () => {
  test('equal the exact count after real sagas of every outcome, before and after compaction', async () => {
    const inputs = [
      orderInput(),
      orderInput({ prescriberId: 'PR-REVOKED' }),
      withPostalCode('00000'),
      withPostalCode('00503'),
      withPostalCode('00504'),
    ];
    for (let i = 0; i < 2; i++) for (const input of inputs) await createOrder(ctx.db, input);
    await withWorker(() => waitForSettled(ctx.db));
    const exact = await exactCounters(ctx.db);
    assert.equal(exact.sagasStarted, 10);
    assert.ok(exact.sagasCancelled > 0 && exact.sagasCompleted > 0);
    assert.ok(exact.failuresByTask.some((f) => f.transient > 0 && f.intervention > 0));
    assert.deepEqual(await counted(), exact);
    const waiting = await exactGauges(ctx.db);
    assert.ok(waiting.interventionsWaiting >= 2, 'the 00504 orders wait for a human');
    assert.deepEqual(await gauges(), waiting);

    // The worker's sweep folded some or all of the deltas in; folding the rest changes nothing.
    await compactMetricCounters(ctx.db);
    assert.equal(await deltas(), 0);
    assert.deepEqual(await counted(), exact);
  });

  test('follow direct writes: finished rows at the histogram edges, a state change, a delete', async () => {
    const ids = await insertSagaRows(ctx.db, [
      { state: 'COMPLETED', startedAgo: 100, durationSeconds: 0.5 },
      { state: 'COMPLETED', startedAgo: 100, durationSeconds: 0.500001 },
      { state: 'CANCELLED', startedAgo: 9000, durationSeconds: 3600 },
      { state: 'CANCELLED', startedAgo: 9000, durationSeconds: 3600.25 },
      { state: 'PENDING_SHIPMENT', startedAgo: 50 },
      // In flight but with a completion time: not the inserts' shortcut (migration 0015).
      { state: 'PENDING_SHIPMENT', startedAgo: 40, durationSeconds: 7 },
    ]);
    assert.deepEqual(await counted(), await exactCounters(ctx.db));
    await ctx.db.execute(sql`
      update order_fulfillment_sagas set state = 'CANCELLED', completed_at = completed_at + interval '2 s'
      where saga_id = ${ids[0]!}`);
    await ctx.db.execute(sql`
      update order_fulfillment_sagas set state = 'COMPLETED', completed_at = now()
      where saga_id = ${ids[4]!}`);
    await ctx.db.execute(sql`delete from order_fulfillment_sagas where saga_id = ${ids[2]!}`);
    assert.deepEqual(await counted(), await exactCounters(ctx.db));
  });

  test('the gauges follow direct writes: flagged, stalled, unflagged, finished, deleted', async () => {
    const before = await exactGauges(ctx.db);
    assert.deepEqual(await gauges(), before);
    const ids = await insertSagaRows(ctx.db, [
      { state: 'PENDING_SHIPMENT', startedAgo: 500, needsIntervention: true },
      { state: 'PENDING_PRESCRIPTION', startedAgo: 400 },
      { state: 'PENDING_INVENTORY_RESERVATION', startedAgo: 300 },
    ]);
    const flag = (id: string, reason: string) =>
      ctx.db.execute(sql`
        update order_fulfillment_sagas set needs_intervention = true, intervention_reason = ${reason},
          intervention_since = now() where saga_id = ${id}`);
    await flag(ids[1]!, 'stalled: no progress for 600 s');
    await flag(ids[2]!, 'attempts exhausted');
    let exact = await exactGauges(ctx.db);
    assert.deepEqual(
      [
        exact.interventionsWaiting - before.interventionsWaiting,
        exact.stalledSagas - before.stalledSagas,
      ],
      [3, 1],
    );
    assert.deepEqual(await gauges(), exact);
    // The stalled saga's reason changes (still flagged), another is unflagged, one finishes.
    await flag(ids[1]!, 'attempts exhausted');
    await flag(ids[2]!, 'stalled: no progress for 900 s');
    await ctx.db.execute(sql`
      update order_fulfillment_sagas set needs_intervention = false, intervention_reason = null,
        intervention_since = null where saga_id = ${ids[0]!}`);
    await ctx.db.execute(sql`
      update order_fulfillment_sagas set state = 'CANCELLED', completed_at = now(),
        needs_intervention = false, intervention_reason = null where saga_id = ${ids[1]!}`);
    assert.deepEqual(await gauges(), await exactGauges(ctx.db));
    await ctx.db.execute(sql`delete from order_fulfillment_sagas where saga_id = ${ids[2]!}`);
    exact = await exactGauges(ctx.db);
    assert.deepEqual(
      [exact.interventionsWaiting, exact.stalledSagas, exact.sagasInFlight],
      [before.interventionsWaiting, before.stalledSagas, before.sagasInFlight + 1],
    );
    assert.deepEqual(await gauges(), exact);
  });

  test('a replay rebuilds them to the same figures', async () => {
    await replayProjections(ctx.db);
    assert.equal(await deltas(), 0);
    assert.deepEqual(await counted(), await exactCounters(ctx.db));
    assert.deepEqual(await gauges(), await exactGauges(ctx.db));
  });
});
