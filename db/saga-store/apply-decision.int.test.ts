import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { createOrder } from '@/server/commands/create-order';
import { stepSucceeded } from '@/lib/saga/decide';
import { orderInput, useSagaTestDatabase } from '@/test/saga-harness';
import { applyDecision, DuplicateAppendError, lockSaga, runPrepared, type StoredSaga } from '.';

const ctx = useSagaTestDatabase();

const prescribed = (stored: StoredSaga) =>
  stepSucceeded(stored.saga, 'create-prescription', {
    type: 'order.prescription_created',
    payload: {
      orderId: stored.saga.orderId,
      prescriptionId: `RX-${stored.saga.sagaId}`,
      prescriberId: 'PR-2001',
    },
  });

async function lastPosition(sagaId: string): Promise<number> {
  const [row] = await ctx.db.execute<{ position: string }>(sql`
    select max(position)::text as position from events where metadata->>'correlationId' = ${sagaId}`);
  return Number(row!.position);
}

describe('applyDecision (one statement: append, saga row, next job)', () => {
  test('the saga it answers is the row it wrote: folded before the append, positions from it', async () => {
    const { sagaId } = await createOrder(ctx.db, orderInput({ patientId: 'PAT-APPLY-1' }));
    const answered = await ctx.db.transaction(async (tx) => {
      const stored = (await lockSaga(tx, sagaId))!;
      return applyDecision(tx, stored, prescribed(stored), { causationId: 'test' });
    });
    const row = await ctx.db.transaction(async (tx) => (await lockSaga(tx, sagaId))!);
    assert.deepEqual(answered, row);
    assert.equal(row.heads.lastPosition, await lastPosition(sagaId));
    const [event] = await ctx.db.execute<{ recorded_at: string }>(sql`
      select recorded_at::text from events where idempotency_key = ${`${sagaId}:order.prescription_created`}`);
    assert.equal(
      row.saga.updatedAt.getTime(),
      new Date(event!.recorded_at).getTime(),
      'stamped with the transaction start, as the append stamps its events',
    );
  });

  test('a repeated append is DuplicateAppendError and fails the transaction: nothing sent with it commits', async () => {
    const { sagaId } = await createOrder(ctx.db, orderInput({ patientId: 'PAT-APPLY-2' }));
    const before = await ctx.db.transaction(async (tx) => (await lockSaga(tx, sagaId))!);
    const after = await ctx.db.transaction((tx) =>
      applyDecision(tx, before, prescribed(before), { causationId: 'first' }),
    );
    // The same events again, on the streams as they are now (only their idempotency keys clash).
    const again = { saga: before.saga, heads: after.heads };
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        try {
          await applyDecision(tx, again, prescribed(again), { causationId: 'again' });
        } catch (error) {
          assert.ok(error instanceof DuplicateAppendError, String(error));
          assert.deepEqual(error.keys, [`${sagaId}:order.prescription_created`]);
          // The unique violation aborted the transaction (on conflict do nothing would not).
          await assert.rejects(runPrepared(tx, 'select 1', []), { code: '25P02' });
          throw error;
        }
      }),
      DuplicateAppendError,
    );
    const [counts] = await ctx.db.execute<{ events: number; prescriptions: number }>(sql`
      select (select count(*)::int from events where metadata->>'correlationId' = ${sagaId}) as events,
        (select count(*)::int from prescriptions where saga_id = ${sagaId}) as prescriptions`);
    assert.deepEqual({ ...counts }, { events: 4, prescriptions: 1 });
  });
});
