import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { useApiServer, type Json } from '@/test/api-server';
import { orderInput, waitFor, withPostalCode } from '@/test/saga-harness';

const api = useApiServer();

/**
 * What a POST could have stored. The worker runs meanwhile, so sagas already accepted keep
 * appending events and moving jobs: only order creations are counted.
 */
async function counts() {
  const [row] = await api.db.execute<{ created: number; orders: number; sagas: number }>(sql`
    select (select count(*)::int from events where type = 'order.created') as created,
      (select count(*)::int from orders) as orders,
      (select count(*)::int from order_fulfillment_sagas) as sagas`);
  return row!;
}

const postOrder = (body: unknown, headers: Record<string, string> = {}) =>
  api.request('/api/orders', { method: 'POST', body, headers });

async function settled(sagaId: string) {
  let saga: Json;
  await waitFor(
    async () => {
      saga = (await api.request(`/api/sagas/${sagaId}`)).body;
      return saga.state === 'COMPLETED' || saga.state === 'CANCELLED' || saga.needsIntervention;
    },
    30_000,
    `saga ${sagaId} to settle`,
  );
  return saga;
}

describe('POST /api/orders', () => {
  test('201 with the order, its saga and state; the saga runs to COMPLETED', async () => {
    const res = await postOrder(orderInput({ orderId: 'ORD-api-1' }));
    assert.equal(res.status, 201);
    assert.deepEqual(Object.keys(res.body).sort(), ['orderId', 'sagaId', 'state']);
    assert.equal(res.body.orderId, 'ORD-api-1');
    assert.equal(res.body.state, 'PENDING_PRESCRIPTION');
    assert.equal(res.headers.get('location'), `/api/sagas/${res.body.sagaId}`);
    assert.match(res.headers.get('x-request-id') ?? '', /.+/);

    const saga = await settled(res.body.sagaId);
    assert.equal(saga.state, 'COMPLETED');
    assert.ok(saga.durationSeconds > 0);
    assert.equal(saga.completedAt !== null, true);
    const types = saga.events.map((e: { type: string }) => e.type);
    assert.equal(types[0], 'order.created');
    assert.ok(types.includes('order.shipment_initiated'));
    assert.equal(types.at(-1), 'order_fulfillment_saga.completed');
    const positions = saga.events.map((e: { position: number }) => e.position);
    assert.deepEqual(
      positions,
      [...positions].sort((a: number, b: number) => a - b),
      'timeline in order',
    );
    assert.deepEqual(Object.keys(saga.events[0]).sort(), [
      'metadata',
      'payload',
      'position',
      'recordedAt',
      'streamId',
      'type',
      'version',
    ]);
  });

  test('400 with every issue for a bad body, and nothing is stored', async () => {
    const before = await counts();
    const res = await postOrder({ patientId: '', medications: [{ sku: 'AMOX-500', quantity: 0 }] });
    assert.equal(res.status, 400);
    assert.equal(typeof res.body.error, 'string');
    const paths = res.body.issues.map((i: { path: string[] }) => i.path.join('.'));
    assert.ok(
      paths.includes('patientId') &&
        paths.includes('medications.0.quantity') &&
        paths.includes('shippingAddress'),
    );
    const malformed = await api.request('/api/orders', {
      method: 'POST',
      rawBody: '{"patientId":',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(malformed.status, 400);
    const tooManyLines = await postOrder(
      orderInput({
        medications: Array.from({ length: 51 }, () => ({ sku: 'AMOX-500', quantity: 1 })),
      }),
    );
    assert.equal(tooManyLines.status, 400);
    assert.deepEqual(await counts(), before);
  });

  test('413 for a body over 256 KiB, and nothing is stored', async () => {
    const before = await counts();
    const huge = JSON.stringify({ ...orderInput(), padding: 'x'.repeat(300 * 1024) });
    const res = await api.request('/api/orders', {
      method: 'POST',
      rawBody: huge,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 413);
    assert.deepEqual(await counts(), before);
  });

  test('422 for a well-formed order naming an unknown medication, and nothing is stored', async () => {
    const before = await counts();
    const res = await postOrder(orderInput({ medications: [{ sku: 'NOPE-1', quantity: 1 }] }));
    assert.equal(res.status, 422);
    assert.deepEqual(res.body.issues[0].path, ['medications', 0, 'sku']);
    assert.deepEqual(await counts(), before);
  });

  test('409 for a second order with the same orderId', async () => {
    assert.equal((await postOrder(orderInput({ orderId: 'ORD-api-dup' }))).status, 201);
    const before = await counts();
    assert.equal((await postOrder(orderInput({ orderId: 'ORD-api-dup' }))).status, 409);
    assert.deepEqual(await counts(), before);
  });

  test('Idempotency-Key: the same key and body answer 200 with the original order', async () => {
    const first = await postOrder(orderInput(), { 'idempotency-key': 'api-seq' });
    const again = await postOrder(orderInput(), { 'idempotency-key': 'api-seq' });
    assert.equal(first.status, 201);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.sagaId, first.body.sagaId);
    assert.equal(again.body.orderId, first.body.orderId);
  });

  test('Idempotency-Key: eight concurrent requests create exactly one order', async () => {
    const before = await counts();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => postOrder(orderInput(), { 'idempotency-key': 'api-burst' })),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 201]);
    assert.equal(new Set(results.map((r) => r.body.sagaId)).size, 1);
    const after = await counts();
    assert.equal(after.orders - before.orders, 1);
    assert.equal(after.sagas - before.sagas, 1);
  });

  test('Idempotency-Key: the same key with another body is 409 and stores nothing', async () => {
    await postOrder(orderInput(), { 'idempotency-key': 'api-body' });
    const before = await counts();
    const res = await postOrder(orderInput({ patientId: 'PAT-other' }), {
      'idempotency-key': 'api-body',
    });
    assert.equal(res.status, 409);
    assert.deepEqual(await counts(), before);
  });

  test('without a key, every POST is a new order', async () => {
    const a = await postOrder(orderInput());
    const b = await postOrder(orderInput());
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(a.body.sagaId, b.body.sagaId);
  });
});

describe('GET /api/orders/:orderId/saga and /api/sagas/:sagaId', () => {
  test('the saga of an order; 404 for unknown ids', async () => {
    const created = await postOrder(orderInput({ orderId: 'ORD-api-lookup' }));
    const res = await api.request('/api/orders/ORD-api-lookup/saga');
    assert.equal(res.status, 200);
    assert.equal(res.body.sagaId, created.body.sagaId);
    for (const key of [
      'sagaId',
      'orderId',
      'state',
      'needsIntervention',
      'interventionReason',
      'startedAt',
      'completedAt',
      'durationSeconds',
    ]) {
      assert.ok(key in res.body, `saga has ${key}`);
    }
    assert.equal((await api.request('/api/orders/ORD-nope/saga')).status, 404);
    assert.equal(
      (await api.request('/api/sagas/00000000-0000-4000-8000-000000000000')).status,
      404,
    );
    assert.equal((await api.request('/api/sagas/not-a-uuid')).status, 404);
  });
});

describe('POST /api/sagas/:sagaId/retry and /cancel', () => {
  test('cancel of a stuck saga is 202, compensates, and is recorded on the timeline and in the audit trail', async () => {
    const { body } = await postOrder(withPostalCode('00504'));
    const stuck = await settled(body.sagaId);
    assert.equal(stuck.needsIntervention, true);

    const res = await api.request(`/api/sagas/${body.sagaId}/cancel`, {
      method: 'POST',
      body: { reason: 'patient cancelled by phone' },
      headers: { 'x-request-id': 'req-cancel-1' },
    });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('x-request-id'), 'req-cancel-1');
    const done = await settled(body.sagaId);
    assert.equal(done.state, 'CANCELLED');
    const cancelEvent = done.events.find(
      (e: { type: string }) => e.type === 'order_fulfillment_saga.cancel_requested',
    );
    assert.equal(cancelEvent.payload.actor, 'api');
    assert.equal(cancelEvent.payload.reason, 'patient cancelled by phone');

    const audit = await api.request(`/api/audit?target=${body.sagaId}`);
    assert.equal(audit.body.items.length, 1);
    assert.equal(audit.body.items[0].action, 'saga.cancel');
    assert.equal(audit.body.items[0].requestId, 'req-cancel-1');
    assert.equal(audit.body.items[0].before.state, 'PENDING_SHIPMENT');

    const again = await api.request(`/api/sagas/${body.sagaId}/cancel`, {
      method: 'POST',
      body: { reason: 'once more' },
    });
    assert.equal(again.status, 409);
  });

  test('retry: 409 when nothing needs retrying, 400 without a reason, 404 for an unknown saga', async () => {
    const { body } = await postOrder(orderInput());
    await settled(body.sagaId);
    assert.equal(
      (
        await api.request(`/api/sagas/${body.sagaId}/retry`, {
          method: 'POST',
          body: { reason: 'just because' },
        })
      ).status,
      409,
    );
    assert.equal(
      (await api.request(`/api/sagas/${body.sagaId}/retry`, { method: 'POST', body: {} })).status,
      400,
    );
    const unknown = await api.request('/api/sagas/00000000-0000-4000-8000-000000000000/retry', {
      method: 'POST',
      body: { reason: 'who?' },
    });
    assert.equal(unknown.status, 404);
  });

  test('retry of a saga flagged for intervention is 202 and runs the step again', async () => {
    const { body } = await postOrder(withPostalCode('00504'));
    await settled(body.sagaId);
    const res = await api.request(`/api/sagas/${body.sagaId}/retry`, {
      method: 'POST',
      body: { reason: 'carrier is back' },
    });
    assert.equal(res.status, 202);
    assert.equal(res.body.needsIntervention, false);
    const audit = await api.request(`/api/audit?target=${body.sagaId}&action=saga.retry`);
    assert.equal(audit.body.items[0].reason, 'carrier is back');
    await settled(body.sagaId); // 00504 fails again: flagged again, no job left behind
  });
});
