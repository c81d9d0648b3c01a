import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFaultSetting } from '@/db/faults';
import { createOrder } from '@/server/commands/create-order';
import { cancelSaga, retrySaga } from '@/server/commands/operator-action';
import { AppError } from '@/lib/errors';
import {
  eventTypes,
  getSagaRow,
  jobCount,
  orderInput,
  useSagaTestDatabase,
  waitForSettled,
  withPostalCode,
  withWorker,
} from '@/test/saga-harness';

const ctx = useSagaTestDatabase({ RXSAGA_MAX_ATTEMPTS: '3' });
const operator = 'operator:alice';
const noFaults = { failureRate: 0, transientRate: 0, latencyMs: 0 };

async function settle(input: unknown) {
  const { sagaId } = await createOrder(ctx.db, input);
  await withWorker(() => waitForSettled(ctx.db));
  return sagaId;
}

const count = (types: string[], type: string) => types.filter((t) => t === type).length;

describe('transient errors, exhaustion and operator actions', () => {
  test('a transient carrier error (00503) is retried with backoff, then succeeds', async () => {
    const sagaId = await settle(withPostalCode('00503'));
    const saga = await getSagaRow(ctx.db, sagaId);
    const types = await eventTypes(ctx.db, sagaId);
    assert.equal(saga.state, 'COMPLETED');
    assert.equal(count(types, 'order_fulfillment_saga.attempt_failed'), 2);
    assert.equal(count(types, 'order.shipment_initiated'), 1);
    assert.equal(saga.attempts, 0, 'progress resets the attempt counter');
  });

  test('exhausted retries (00504) flag the saga for a human instead of failing it', async () => {
    const sagaId = await settle(withPostalCode('00504'));
    const saga = await getSagaRow(ctx.db, sagaId);
    assert.equal(saga.state, 'PENDING_SHIPMENT');
    assert.equal(saga.needsIntervention, true);
    assert.match(saga.interventionReason ?? '', /initiate-shipment failed after 3 attempts.*504/);
    assert.equal(saga.attempts, 3);
    assert.equal(await jobCount(ctx.db), 0, 'no job keeps hammering the carrier');
    const types = await eventTypes(ctx.db, sagaId);
    assert.equal(count(types, 'order_fulfillment_saga.attempt_failed'), 2);
    assert.equal(types.at(-1), 'order_fulfillment_saga.intervention_required');
  });

  test('operator retry re-runs the failed step with fresh attempts, then the saga completes', async () => {
    await setFaultSetting(ctx.db, { task: 'reserve-inventory', ...noFaults, transientRate: 1 });
    const sagaId = await settle(orderInput());
    assert.equal((await getSagaRow(ctx.db, sagaId)).needsIntervention, true);

    await setFaultSetting(ctx.db, { task: 'reserve-inventory', ...noFaults });
    const result = await retrySaga(ctx.db, sagaId, { reason: 'stock system back up' }, operator);
    assert.equal(result.needsIntervention, false);
    await withWorker(() => waitForSettled(ctx.db));

    const saga = await getSagaRow(ctx.db, sagaId);
    assert.equal(saga.state, 'COMPLETED');
    const types = await eventTypes(ctx.db, sagaId);
    assert.equal(count(types, 'order_fulfillment_saga.retry_requested'), 1);
    assert.equal(count(types, 'order.inventory_reserved'), 1);
  });

  test('retry is refused (conflict) when the saga does not need intervention', async () => {
    const sagaId = await settle(orderInput());
    await assert.rejects(
      retrySaga(ctx.db, sagaId, { reason: 'just because' }, operator),
      (e: unknown) => {
        assert.ok(e instanceof AppError);
        assert.equal(e.kind, 'conflict');
        return true;
      },
    );
  });

  test('operator cancel of a stuck saga compensates what was done, in reverse order', async () => {
    const sagaId = await settle(withPostalCode('00504'));
    await cancelSaga(ctx.db, sagaId, { reason: 'patient cancelled by phone' }, operator);
    await withWorker(() => waitForSettled(ctx.db));
    const saga = await getSagaRow(ctx.db, sagaId);
    assert.equal(saga.state, 'CANCELLED');
    assert.deepEqual(saga.compensationsDone, [
      'release-inventory',
      'cancel-prescription',
      'cancel-order',
    ]);
    assert.match(
      saga.failureReason ?? '',
      /cancelled by operator:alice: patient cancelled by phone/,
    );
    const types = await eventTypes(ctx.db, sagaId);
    const cancelAt = types.indexOf('order_fulfillment_saga.cancel_requested');
    assert.ok(cancelAt > 0 && cancelAt < types.indexOf('order.inventory_released'));
    await assert.rejects(
      cancelSaga(ctx.db, sagaId, { reason: 'again please' }, operator),
      /cannot be cancelled/,
    );
  });

  test('a compensation that keeps failing is flagged, and a retry finishes the unwind', async () => {
    await setFaultSetting(ctx.db, { task: 'release-inventory', ...noFaults, transientRate: 1 });
    const sagaId = await settle(withPostalCode('00000'));
    let saga = await getSagaRow(ctx.db, sagaId);
    assert.equal(saga.state, 'CANCELLED_SHIPMENT_FAILED');
    assert.equal(saga.needsIntervention, true);
    assert.equal(saga.currentTask, 'release-inventory');

    await setFaultSetting(ctx.db, { task: 'release-inventory', ...noFaults });
    await retrySaga(ctx.db, sagaId, { reason: 'inventory service fixed' }, operator);
    await withWorker(() => waitForSettled(ctx.db));
    saga = await getSagaRow(ctx.db, sagaId);
    assert.equal(saga.state, 'CANCELLED');
    assert.deepEqual(saga.compensationsDone, [
      'release-inventory',
      'cancel-prescription',
      'cancel-order',
    ]);
  });

  test('an injected permanent failure fails the step at once, with no retry', async () => {
    await setFaultSetting(ctx.db, { task: 'create-prescription', ...noFaults, failureRate: 1 });
    const sagaId = await settle(orderInput());
    await setFaultSetting(ctx.db, { task: 'create-prescription', ...noFaults });
    const saga = await getSagaRow(ctx.db, sagaId);
    assert.equal(saga.state, 'CANCELLED');
    assert.equal(saga.failedStep, 'create-prescription');
    assert.equal(
      count(await eventTypes(ctx.db, sagaId), 'order_fulfillment_saga.attempt_failed'),
      0,
    );
  });

  test('two operators retrying at once: one is accepted, the other gets a conflict', async () => {
    const sagaId = await settle(withPostalCode('00504'));
    const results = await Promise.allSettled([
      retrySaga(ctx.db, sagaId, { reason: 'first operator' }, 'operator:a'),
      retrySaga(ctx.db, sagaId, { reason: 'second operator' }, 'operator:b'),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const refused = results.find((r) => r.status === 'rejected');
    assert.ok(refused && (refused.reason as AppError).kind === 'conflict');
    assert.equal(
      count(await eventTypes(ctx.db, sagaId), 'order_fulfillment_saga.retry_requested'),
      1,
    );
    await cancelSaga(ctx.db, sagaId, { reason: 'tidy up' }, operator);
    await withWorker(() => waitForSettled(ctx.db));
  });
});
