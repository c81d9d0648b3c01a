import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { createOrder } from '@/server/commands/create-order';
import type { Task } from '@/lib/saga/model';
import {
  getSagaRow,
  jobCount,
  orderInput,
  reservationMismatches,
  setStock,
  streamsWithGaps,
  deliverJob,
  useSagaTestDatabase,
  withPostalCode,
} from '@/test/saga-harness';
import { assertStatsRollupsMatch } from '@/test/stats-rollup';
import { runSagaTask } from './run-saga-task';

const ctx = useSagaTestDatabase({ RXSAGA_GROUP_COMMIT: '4' });

const deliver = (sagaId: string, task: Task) => deliverJob(ctx.db, sagaId, task);

/** The first task of each saga, delivered and run at once (as a worker's concurrent slots do). */
async function runTogether(sagaIds: readonly string[]): Promise<void> {
  const jobs = await Promise.all(sagaIds.map((id) => deliver(id, 'create-prescription')));
  await Promise.all(
    sagaIds.map((sagaId, i) => runSagaTask('create-prescription', { sagaId }, { id: jobs[i]! })),
  );
}

/** How many transactions wrote these sagas' events of these types (xmin: the writer's). */
async function transactionsOf(sagaIds: readonly string[], types: readonly string[]) {
  const [row] = await ctx.db.execute<{ txs: number; events: number; sagas: number }>(sql`
    select count(distinct xmin::text)::int as txs, count(*)::int as events,
      count(distinct metadata->>'correlationId')::int as sagas
    from events
    where metadata->>'correlationId' = any(${`{${sagaIds.join(',')}}`}::text[])
      and type = any(${`{${types.join(',')}}`}::text[])`);
  return row!;
}

async function assertConsistent() {
  assert.equal(await jobCount(ctx.db), 0, 'no job left');
  assert.deepEqual(await streamsWithGaps(ctx.db), []);
  assert.deepEqual(await reservationMismatches(ctx.db), []);
  await assertStatsRollupsMatch(ctx.db);
}

describe('group commit (RXSAGA_GROUP_COMMIT)', () => {
  test('the same step of several sagas commits in one transaction, each saga ending as it would alone', async () => {
    await setStock(ctx.db, 'LEVO-50', 1);
    const orders = [
      orderInput({ patientId: 'PAT-GC-1' }),
      orderInput({ patientId: 'PAT-GC-2' }),
      // Not enough stock: the reservation fails, the prescription and the order are cancelled.
      orderInput({ patientId: 'PAT-GC-3', medications: [{ sku: 'LEVO-50', quantity: 2 }] }),
      // The carrier refuses: the reservation is released, then the rest undone.
      withPostalCode('00000', { patientId: 'PAT-GC-4' }),
    ];
    const sagaIds: string[] = [];
    for (const o of orders) sagaIds.push((await createOrder(ctx.db, o)).sagaId);

    await runTogether(sagaIds);

    const states = await Promise.all(sagaIds.map((id) => getSagaRow(ctx.db, id)));
    assert.deepEqual(
      states.map((s) => [s?.state, s?.failedStep ?? null, s?.compensationsDone]),
      [
        ['COMPLETED', null, []],
        ['COMPLETED', null, []],
        ['CANCELLED', 'reserve-inventory', ['cancel-prescription', 'cancel-order']],
        [
          'CANCELLED',
          'initiate-shipment',
          ['release-inventory', 'cancel-prescription', 'cancel-order'],
        ],
      ],
    );
    // One transaction per step for all four sagas, then for the three that reached the shipment.
    assert.deepEqual(await transactionsOf(sagaIds, ['order.prescription_created']), {
      txs: 1,
      events: 4,
      sagas: 4,
    });
    assert.deepEqual(
      await transactionsOf(sagaIds, [
        'order.inventory_reserved',
        'order.inventory_reservation_failed',
      ]),
      { txs: 1, events: 4, sagas: 4 },
    );
    assert.deepEqual(
      await transactionsOf(sagaIds, [
        'order.shipment_initiated',
        'order.shipment_initiation_failed',
      ]),
      { txs: 1, events: 3, sagas: 3 },
    );
    await assertConsistent();
  });

  test('a statement failing for one saga rolls the batch back: each saga then runs alone, the others go on', async () => {
    const orders = ['PAT-GC-5', 'PAT-GC-6', 'PAT-GC-7'].map((p) => orderInput({ patientId: p }));
    const created = [];
    for (const o of orders) created.push(await createOrder(ctx.db, o));
    const sagaIds = created.map((c) => c.sagaId);
    // A prescription already recorded for the first order: that saga's append of its own fails
    // on the one-prescription-per-order index, inside the batch.
    await ctx.db.execute(sql`
      insert into prescriptions (prescription_id, order_id, saga_id, prescriber_id, status, created_at)
      values ('RX-GC-TAKEN', ${created[0]!.orderId}, ${sagaIds[0]!}::uuid, 'PR-2001', 'active', now())`);

    await runTogether(sagaIds);

    const [failed, ...others] = await Promise.all(sagaIds.map((id) => getSagaRow(ctx.db, id)));
    assert.deepEqual(
      others.map((s) => s?.state),
      ['COMPLETED', 'COMPLETED'],
    );
    assert.equal(failed?.state, 'PENDING_PRESCRIPTION');
    assert.equal(failed?.attempts, 1, 'its failed attempt recorded, as when it runs alone');
    assert.match(failed?.lastError ?? '', /prescriptions_order_id_key/);
    assert.deepEqual(await transactionsOf([sagaIds[0]!], ['order.prescription_created']), {
      txs: 0,
      events: 0,
      sagas: 0,
    });
    // After the fallback the two went on together again.
    assert.equal(
      (await transactionsOf(sagaIds.slice(1), ['order.inventory_reserved'])).txs,
      1,
      'their next step in one transaction',
    );
    assert.deepEqual(await streamsWithGaps(ctx.db), []);
    assert.deepEqual(await reservationMismatches(ctx.db), []);
    await assertStatsRollupsMatch(ctx.db);
  });
});
