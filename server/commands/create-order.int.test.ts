import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { createOrder } from '@/server/commands/create-order';
import { AppError } from '@/lib/errors';
import { getSagaRow, jobCount, orderInput, useSagaTestDatabase } from '@/test/saga-harness';

const ctx = useSagaTestDatabase();

async function counts() {
  const [row] = await ctx.db.execute<{ events: number; orders: number; sagas: number }>(sql`
    select (select count(*)::int from events) as events, (select count(*)::int from orders) as orders,
           (select count(*)::int from order_fulfillment_sagas) as sagas`);
  return { ...row!, jobs: await jobCount(ctx.db) };
}

const rejectsWith = (kind: AppError['kind']) => (e: unknown) => {
  assert.ok(e instanceof AppError, `expected AppError, got ${String(e)}`);
  assert.equal(e.kind, kind);
  return true;
};

describe('createOrder', () => {
  test('stores the order, starts the saga and enqueues the first step in one go', async () => {
    const result = await createOrder(ctx.db, orderInput({ orderId: 'ORD-first' }));
    assert.equal(result.orderId, 'ORD-first');
    assert.equal(result.state, 'PENDING_PRESCRIPTION');
    assert.equal(result.replayed, false);
    const saga = await getSagaRow(ctx.db, result.sagaId);
    assert.equal(saga.currentTask, 'create-prescription');
    const [job] = await ctx.db.execute<{ key: string; task_identifier: string }>(
      sql`select key, task_identifier from graphile_worker.jobs`,
    );
    assert.equal(job!.key, `${result.sagaId}:create-prescription`);
  });

  test('bad input is refused with every issue, and nothing is stored', async () => {
    const before = await counts();
    await assert.rejects(
      createOrder(ctx.db, { patientId: '', medications: [{ sku: 'AMOX-500', quantity: 0 }] }),
      (e: unknown) => {
        rejectsWith('invalid_input')(e);
        const paths = (e as AppError).issues.map((i) => i.path.join('.'));
        assert.ok(paths.includes('patientId'));
        assert.ok(paths.includes('medications.0.quantity'));
        assert.ok(paths.includes('shippingAddress'));
        return true;
      },
    );
    await assert.rejects(
      createOrder(ctx.db, orderInput({ medications: [] })),
      rejectsWith('invalid_input'),
    );
    await assert.rejects(createOrder(ctx.db, 'not an object'), rejectsWith('invalid_input'));
    assert.deepEqual(await counts(), before);
  });

  test('an unknown medication is a rule violation, and nothing is stored', async () => {
    const before = await counts();
    await assert.rejects(
      createOrder(ctx.db, orderInput({ medications: [{ sku: 'NOPE-1', quantity: 1 }] })),
      rejectsWith('rule_violation'),
    );
    assert.deepEqual(await counts(), before);
  });

  test('a second order with the same orderId is a conflict', async () => {
    await createOrder(ctx.db, orderInput({ orderId: 'ORD-dup' }));
    const before = await counts();
    await assert.rejects(
      createOrder(ctx.db, orderInput({ orderId: 'ORD-dup' })),
      rejectsWith('conflict'),
    );
    assert.deepEqual(await counts(), before);
  });

  test('the same idempotency key and body return the first order', async () => {
    const first = await createOrder(ctx.db, orderInput(), { idempotencyKey: 'key-seq' });
    const again = await createOrder(ctx.db, orderInput(), { idempotencyKey: 'key-seq' });
    assert.equal(again.sagaId, first.sagaId);
    assert.equal(again.orderId, first.orderId);
    assert.equal(again.replayed, true);
  });

  test('eight concurrent requests with one key create exactly one order', async () => {
    const before = await counts();
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        createOrder(ctx.db, orderInput(), { idempotencyKey: 'key-burst' }),
      ),
    );
    assert.equal(new Set(results.map((r) => r.sagaId)).size, 1);
    assert.equal(results.filter((r) => !r.replayed).length, 1);
    const after = await counts();
    assert.equal(after.orders - before.orders, 1);
    assert.equal(after.sagas - before.sagas, 1);
  });

  test('the same key with a different body is a conflict, and stores nothing', async () => {
    await createOrder(ctx.db, orderInput(), { idempotencyKey: 'key-body' });
    const before = await counts();
    await assert.rejects(
      createOrder(ctx.db, orderInput({ patientId: 'PAT-other' }), { idempotencyKey: 'key-body' }),
      rejectsWith('conflict'),
    );
    assert.deepEqual(await counts(), before);
  });

  test('body key order does not change the idempotency hash', async () => {
    const a = orderInput();
    const reordered = {
      shippingAddress: a.shippingAddress,
      medications: a.medications,
      prescriberId: a.prescriberId,
      patientId: a.patientId,
    };
    const first = await createOrder(ctx.db, a, { idempotencyKey: 'key-order' });
    const second = await createOrder(ctx.db, reordered, { idempotencyKey: 'key-order' });
    assert.equal(second.sagaId, first.sagaId);
  });
});
