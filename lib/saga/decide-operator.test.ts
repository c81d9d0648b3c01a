import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attemptFailed, cancelRequested, retryRequested } from './decide';
import { expectedTask, type Saga } from './saga';
import {
  ACTOR,
  POLICY,
  T0,
  UNWINDS,
  cancel,
  decided,
  exhaust,
  historyIn,
  lastEvent,
  refused,
  typesOf,
  unwind,
} from './saga.test-kit';

describe('operator cancel', () => {
  for (const { step: awaited, pending, compensating, undo } of UNWINDS) {
    it(`in ${pending}: records the request, enters ${compensating}, dequeues ${awaited} and queues ${undo[0]}`, () => {
      const h = historyIn(pending);
      const d = cancel(h, 'patient withdrew');
      assert.deepEqual(typesOf(d.events), [
        'order_fulfillment_saga.cancel_requested',
        'order_fulfillment_saga.state_changed',
      ]);
      assert.deepEqual(d.events[0]?.payload, {
        actor: ACTOR,
        reason: 'patient withdrew',
        fromState: pending,
      });
      assert.deepEqual(d.events[1]?.payload, {
        from: pending,
        to: compensating,
        trigger: 'order_fulfillment_saga.cancel_requested',
      });
      assert.deepEqual(d.dequeue, [awaited]);
      assert.deepEqual(d.enqueue, { task: undo[0], runAt: null });
      assert.equal(h.saga.failedStep, awaited);
      assert.match(h.saga.failureReason ?? '', new RegExp(`${ACTOR}.*patient withdrew`));
    });

    it(`in ${pending}: compensates ${undo.join(' → ')} and ends CANCELLED, the actor in saga.failed`, () => {
      const h = historyIn(pending);
      cancel(h);
      unwind(h);
      assert.equal(h.saga.state, 'CANCELLED');
      assert.deepEqual(h.saga.compensationsDone, undo);
      const last = lastEvent(h);
      assert.equal(last?.type, 'order_fulfillment_saga.failed');
      assert.equal(
        last.type === 'order_fulfillment_saga.failed' && last.payload.failedStep,
        awaited,
      );
      assert.match(
        last.type === 'order_fulfillment_saga.failed' ? last.payload.reason : '',
        new RegExp(ACTOR),
      );
    });
  }

  it('accepts a saga flagged for intervention, and clears the flag', () => {
    const h = historyIn('PENDING_SHIPMENT');
    exhaust(h);
    cancel(h);
    assert.equal(h.saga.needsIntervention, false);
    assert.equal(h.saga.attempts, 0);
    assert.equal(expectedTask(h.saga), 'release-inventory');
  });

  for (const state of [
    'CANCELLED_PRESCRIPTION_FAILED',
    'CANCELLED_INVENTORY_FAILED',
    'CANCELLED_SHIPMENT_FAILED',
  ] as const) {
    it(`is refused (conflict) in ${state}: it is already being compensated`, () => {
      const r = refused(cancelRequested(historyIn(state).saga, ACTOR, 'stop'));
      assert.equal(r.kind, 'conflict');
      assert.match(r.message, new RegExp(`${state}.*compensated`));
    });
  }

  for (const state of ['COMPLETED', 'CANCELLED'] as const) {
    it(`is refused (conflict) in ${state}: it has finished`, () => {
      const r = refused(cancelRequested(historyIn(state).saga, ACTOR, 'stop'));
      assert.equal(r.kind, 'conflict');
      assert.match(r.message, new RegExp(`${state}.*finished`));
    });
  }
});

describe('operator retry', () => {
  for (const state of [
    'PENDING_PRESCRIPTION',
    'PENDING_SHIPMENT',
    'CANCELLED_INVENTORY_FAILED',
  ] as const) {
    it(`is refused (conflict) in ${state} when the saga does not need intervention`, () => {
      const r = refused(retryRequested(historyIn(state).saga, ACTOR, 'again'));
      assert.equal(r.kind, 'conflict');
      assert.match(r.message, /does not need intervention/);
    });
  }

  for (const state of ['COMPLETED', 'CANCELLED'] as const) {
    it(`is refused (conflict) in ${state}, even with the flag set`, () => {
      const flagged: Saga = { ...historyIn(state).saga, needsIntervention: true };
      const r = refused(retryRequested(flagged, ACTOR, 'again'));
      assert.equal(r.kind, 'conflict');
      assert.match(r.message, new RegExp(`${state}.*nothing to retry`));
    });
  }

  it('is accepted for a flagged step: records who asked, queues the step now, resets attempts and flag', () => {
    const h = historyIn('PENDING_SHIPMENT');
    exhaust(h);
    assert.equal(h.saga.attempts, 3);
    const d = decided(retryRequested(h.saga, ACTOR, 'carrier is back'));
    h.record(d);
    assert.deepEqual(typesOf(d.events), ['order_fulfillment_saga.retry_requested']);
    assert.deepEqual(d.events[0]?.payload, {
      task: 'initiate-shipment',
      actor: ACTOR,
      reason: 'carrier is back',
    });
    assert.deepEqual(d.enqueue, { task: 'initiate-shipment', runAt: null });
    assert.deepEqual(d.dequeue, []);
    assert.equal(h.saga.needsIntervention, false);
    assert.equal(h.saga.interventionReason, null);
    assert.equal(h.saga.attempts, 0);
    assert.equal(h.saga.state, 'PENDING_SHIPMENT');
  });

  it('is accepted for a flagged compensation, and queues that compensation', () => {
    const h = historyIn('CANCELLED_INVENTORY_FAILED');
    exhaust(h);
    const d = decided(retryRequested(h.saga, ACTOR, 'pharmacy system is back'));
    assert.deepEqual(d.enqueue, { task: 'cancel-prescription', runAt: null });
  });

  it('gives fresh attempts: the next transient error is attempt 1 again, with the base delay', () => {
    const h = historyIn('PENDING_SHIPMENT');
    exhaust(h);
    h.record(decided(retryRequested(h.saga, ACTOR, 'again')));
    const d = attemptFailed(h.saga, 'initiate-shipment', 'timeout', POLICY, T0);
    assert.equal(d.events[0]?.type, 'order_fulfillment_saga.attempt_failed');
    assert.equal(
      d.events[0]?.type === 'order_fulfillment_saga.attempt_failed' && d.events[0].payload.attempt,
      1,
    );
    assert.deepEqual(d.enqueue?.runAt, new Date(T0.getTime() + 1000));
  });
});

describe('long reasons stay storable', () => {
  it('a cancel with the longest allowed reason still unwinds to CANCELLED', () => {
    const h = historyIn('PENDING_SHIPMENT');
    cancel(h, 'x'.repeat(2000));
    unwind(h);
    assert.equal(h.saga.state, 'CANCELLED');
    assert.ok((h.saga.failureReason ?? '').length <= 2000);
  });

  it('an exhausting error message of any length still flags the saga', () => {
    const h = historyIn('PENDING_SHIPMENT');
    for (let i = 0; i < POLICY.maxAttempts; i++) {
      h.record(attemptFailed(h.saga, 'initiate-shipment', 'e'.repeat(5000), POLICY, T0));
    }
    assert.equal(h.saga.needsIntervention, true);
    assert.ok((h.saga.interventionReason ?? '').length <= 2000);
  });
});
