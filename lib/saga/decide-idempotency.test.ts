import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  attemptFailed,
  cancelRequested,
  compensated,
  interventionRequired,
  retryRequested,
  stepFailed,
  stepSucceeded,
} from './decide';
import {
  ACTOR,
  COMPENSATION_EVENT,
  FAILURE_EVENT,
  OTHER_SAGA_ID,
  POLICY,
  SAGA_ID,
  SUCCESS_EVENT,
  T0,
  UNWINDS,
  cancel,
  decided,
  exhaust,
  historyIn,
  succeed,
  unwind,
  type SagaHistory,
} from './saga.test-kit';

/** Every path a saga can take, as a function of its id. */
const SCENARIOS: Record<string, (sagaId: string) => SagaHistory> = {
  'happy path': (id) => historyIn('COMPLETED', id),
  ...Object.fromEntries(
    UNWINDS.map(({ step, compensating }) => [
      `${step} fails`,
      (id: string) => {
        const h = historyIn(compensating, id);
        unwind(h);
        return h;
      },
    ]),
  ),
  ...Object.fromEntries(
    UNWINDS.map(({ pending }) => [
      `cancel in ${pending}`,
      (id: string) => {
        const h = historyIn(pending, id);
        cancel(h);
        unwind(h);
        return h;
      },
    ]),
  ),
  'retries, intervention, retry, success': (id) => {
    const h = historyIn('PENDING_SHIPMENT', id);
    exhaust(h);
    h.record(decided(retryRequested(h.saga, ACTOR, 'again')));
    succeed(h);
    return h;
  },
};

/** Events that record a step's or a compensation's effect: a repeat of one must be a no-op. */
const EFFECT_EVENTS = new Set<string>([
  'order.created',
  ...Object.values(SUCCESS_EVENT).map((e) => e.type),
  ...Object.values(FAILURE_EVENT).map((e) => e.type),
  ...Object.values(COMPENSATION_EVENT).map((e) => e.type),
  'order_fulfillment_saga.compensation_recorded',
]);

const keysOf = (h: SagaHistory) =>
  h.events.flatMap((e) => (e.metadata.idempotencyKey ? [e.metadata.idempotencyKey] : []));

describe('determinism and idempotency keys', () => {
  for (const [name, run] of Object.entries(SCENARIOS)) {
    it(`${name}: the same inputs decide exactly the same events`, () => {
      assert.deepEqual(run(SAGA_ID).events, run(SAGA_ID).events);
    });

    it(`${name}: every step and compensation event has an idempotency key, unique in the saga`, () => {
      const h = run(SAGA_ID);
      for (const e of h.events.filter((e) => EFFECT_EVENTS.has(e.type))) {
        assert.ok(e.metadata.idempotencyKey, `${e.type} has no idempotency key`);
      }
      const keys = keysOf(h);
      assert.equal(new Set(keys).size, keys.length, `duplicate keys: ${keys.join(', ')}`);
    });

    it(`${name}: keys are scoped to the saga, so another saga never collides`, () => {
      const mine = keysOf(run(SAGA_ID));
      const theirs = new Set(keysOf(run(OTHER_SAGA_ID)));
      assert.deepEqual(
        mine.filter((k) => theirs.has(k)),
        [],
      );
    });
  }

  it('a step event has the same key whether or not transient errors came first', () => {
    const clean = historyIn('PENDING_SHIPMENT');
    const flaky = historyIn('PENDING_SHIPMENT');
    flaky.record(attemptFailed(flaky.saga, 'initiate-shipment', '503', POLICY, T0));
    flaky.record(attemptFailed(flaky.saga, 'initiate-shipment', '503', POLICY, T0));
    const key = (h: SagaHistory) =>
      stepSucceeded(h.saga, 'initiate-shipment', SUCCESS_EVENT['initiate-shipment']).events[0]
        ?.idempotencyKey;
    assert.ok(key(clean));
    assert.equal(key(flaky), key(clean));
  });

  it('a compensation event has the same key whether the unwind followed a failure or a cancel', () => {
    const afterFailure = historyIn('CANCELLED_SHIPMENT_FAILED');
    const afterCancel = historyIn('PENDING_SHIPMENT');
    cancel(afterCancel);
    const key = (h: SagaHistory) =>
      compensated(h.saga, 'release-inventory', COMPENSATION_EVENT['release-inventory']).events.map(
        (e) => e.idempotencyKey,
      );
    assert.deepEqual(key(afterCancel), key(afterFailure));
  });

  it('decisions do not mutate the saga they are given', () => {
    const h = historyIn('PENDING_SHIPMENT');
    const snapshot = structuredClone(h.saga);
    stepSucceeded(h.saga, 'initiate-shipment', SUCCESS_EVENT['initiate-shipment']);
    stepFailed(h.saga, 'initiate-shipment', FAILURE_EVENT['initiate-shipment']);
    attemptFailed(h.saga, 'initiate-shipment', 'x', POLICY, T0);
    cancelRequested(h.saga, ACTOR, 'stop');
    retryRequested(h.saga, ACTOR, 'again');
    interventionRequired(h.saga, 'stalled');
    assert.deepEqual(h.saga, snapshot);
  });
});
