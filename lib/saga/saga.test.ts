import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_TYPES, type EventType, type StoredEvent } from './events';
import { SAGA_STATES, type CompensationTask, type SagaState, type Step, type Task } from './model';
import { evolve, expectedTask, type Saga } from './saga';
import {
  ORDER_ID,
  SAGA_ID,
  SAMPLE_PAYLOADS,
  T0,
  fail,
  historyIn,
  started,
  succeed,
  unwind,
} from './saga.test-kit';

const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** A stored event of `type` with its sample payload (or `payload`), on the right stream. */
function storedEvent<T extends EventType>(
  type: T,
  position: number,
  version: number,
  payload: unknown = SAMPLE_PAYLOADS[type],
): StoredEvent {
  const onSaga = type.startsWith('order_fulfillment_saga.');
  return {
    position,
    streamId: onSaga ? `order_fulfillment_saga-${SAGA_ID}` : `order-${ORDER_ID}`,
    version,
    type,
    payload,
    metadata: { correlationId: SAGA_ID },
    recordedAt: at(position),
  } as StoredEvent;
}

const created = () => evolve(null, storedEvent('order.created', 1, 1));

describe('evolve: the saga folded from its events', () => {
  it('order.created starts the saga in PENDING_PRESCRIPTION with the order step done', () => {
    const saga = evolve(null, storedEvent('order.created', 7, 1));
    assert.deepEqual(saga, {
      sagaId: SAGA_ID,
      orderId: ORDER_ID,
      patientId: 'PAT-1001',
      state: 'PENDING_PRESCRIPTION',
      completedSteps: ['create-order'],
      compensationsDone: [],
      failedStep: null,
      failureReason: null,
      needsIntervention: false,
      interventionReason: null,
      interventionSince: null,
      attempts: 0,
      lastError: null,
      startedAt: at(7),
      updatedAt: at(7),
      completedAt: null,
    });
  });

  it('refuses a second order.created', () => {
    assert.throws(() => evolve(created(), storedEvent('order.created', 2, 2)), /already exists/);
  });

  it('refuses any other event before order.created', () => {
    assert.throws(
      () => evolve(null, storedEvent('order_fulfillment_saga.started', 1, 1)),
      /before order.created/,
    );
  });

  it('folds every event type without throwing once the saga exists', () => {
    for (const type of EVENT_TYPES.filter((t) => t !== 'order.created')) {
      assert.doesNotThrow(() => evolve(created(), storedEvent(type, 2, 1)), type);
    }
  });

  it('takes its start and update times from the events', () => {
    const h = started();
    succeed(h);
    // order.created, started, prescription_created, state_changed: one second apart
    assert.deepEqual(h.saga.updatedAt, at(4));
    assert.deepEqual(h.saga.startedAt, at(1));
  });

  it('does not mutate the saga it folds into', () => {
    const before = created();
    const snapshot = structuredClone(before);
    evolve(before, storedEvent('order.prescription_created', 2, 2));
    evolve(before, storedEvent('order_fulfillment_saga.intervention_required', 3, 1));
    assert.deepEqual(before, snapshot);
  });

  it('records each successful step in completedSteps, in order', () => {
    const h = started();
    succeed(h);
    succeed(h);
    assert.deepEqual(h.saga.completedSteps, [
      'create-order',
      'create-prescription',
      'reserve-inventory',
    ]);
  });

  it('state_changed sets the state; completedAt stays null until a terminal state', () => {
    const h = started();
    succeed(h);
    assert.equal(h.saga.state, 'PENDING_INVENTORY_RESERVATION');
    assert.equal(h.saga.completedAt, null);
  });

  it('completedAt is the time of the state change into COMPLETED', () => {
    const h = historyIn('COMPLETED');
    const entered = h.events.find(
      (e) => e.type === 'order_fulfillment_saga.state_changed' && e.payload.to === 'COMPLETED',
    );
    assert.ok(entered);
    assert.deepEqual(h.saga.completedAt, entered.recordedAt);
  });

  it('a step failure records the failed step and its reason', () => {
    const h = started();
    succeed(h);
    fail(h);
    assert.equal(h.saga.failedStep, 'reserve-inventory');
    assert.equal(h.saga.failureReason, 'insufficient stock: AMOX-500 (requested 2, available 0)');
  });

  it('compensation_recorded appends to compensationsDone, in the order they ran', () => {
    const h = historyIn('CANCELLED_SHIPMENT_FAILED');
    unwind(h);
    assert.deepEqual(h.saga.compensationsDone, [
      'release-inventory',
      'cancel-prescription',
      'cancel-order',
    ]);
  });

  it('attempt_failed counts the attempt and keeps the error; the next progress resets both', () => {
    let saga = evolve(
      created(),
      storedEvent('order_fulfillment_saga.attempt_failed', 2, 1, {
        task: 'create-prescription',
        attempt: 2,
        maxAttempts: 3,
        error: 'db timeout',
        retryAt: at(10).toISOString(),
      }),
    );
    assert.equal(saga.attempts, 2);
    assert.equal(saga.lastError, 'db timeout');
    saga = evolve(saga, storedEvent('order.prescription_created', 3, 2));
    assert.equal(saga.attempts, 0);
    assert.equal(saga.lastError, null);
  });

  it('intervention_required flags the saga; retry_requested clears the flag and the attempts', () => {
    let saga = evolve(
      created(),
      storedEvent('order_fulfillment_saga.intervention_required', 2, 1, {
        task: 'create-prescription',
        reason: 'attempts ran out',
        attempts: 3,
      }),
    );
    assert.equal(saga.needsIntervention, true);
    assert.equal(saga.interventionReason, 'attempts ran out');
    assert.deepEqual(saga.interventionSince, at(2));
    assert.equal(saga.attempts, 3);

    saga = evolve(saga, storedEvent('order_fulfillment_saga.retry_requested', 3, 2));
    assert.equal(saga.needsIntervention, false);
    assert.equal(saga.interventionReason, null);
    assert.equal(saga.interventionSince, null);
    assert.equal(saga.attempts, 0);
  });

  it('cancel_requested makes the awaited step the failed one, with the actor in the reason, and clears the flag', () => {
    const flagged = evolve(
      created(),
      storedEvent('order_fulfillment_saga.intervention_required', 2, 1),
    );
    const saga = evolve(
      flagged,
      storedEvent('order_fulfillment_saga.cancel_requested', 3, 2, {
        actor: 'ops@pharmacy',
        reason: 'patient withdrew',
        fromState: 'PENDING_PRESCRIPTION',
      }),
    );
    assert.equal(saga.failedStep, 'create-prescription');
    assert.equal(saga.failureReason, 'cancelled by ops@pharmacy: patient withdrew');
    assert.equal(saga.needsIntervention, false);
    assert.equal(saga.attempts, 0);
  });
});

describe('expectedTask', () => {
  const saga = (
    state: SagaState,
    completedSteps: Step[],
    compensationsDone: CompensationTask[] = [],
  ) => ({
    state,
    completedSteps,
    compensationsDone,
  });
  const order: Step = 'create-order';
  const rx: Step = 'create-prescription';
  const inv: Step = 'reserve-inventory';

  const CASES: ReadonlyArray<
    [string, Pick<Saga, 'state' | 'completedSteps' | 'compensationsDone'>, Task | null]
  > = [
    [
      'a pending saga waits for its prescription',
      saga('PENDING_PRESCRIPTION', [order]),
      'create-prescription',
    ],
    [
      '…then for inventory',
      saga('PENDING_INVENTORY_RESERVATION', [order, rx]),
      'reserve-inventory',
    ],
    ['…then for the shipment', saga('PENDING_SHIPMENT', [order, rx, inv]), 'initiate-shipment'],
    [
      'a completed saga waits for nothing',
      saga('COMPLETED', [order, rx, inv, 'initiate-shipment']),
      null,
    ],
    ['a cancelled saga waits for nothing', saga('CANCELLED', [order], ['cancel-order']), null],
    [
      'prescription failed → cancel-order',
      saga('CANCELLED_PRESCRIPTION_FAILED', [order]),
      'cancel-order',
    ],
    [
      'inventory failed → cancel-prescription first',
      saga('CANCELLED_INVENTORY_FAILED', [order, rx]),
      'cancel-prescription',
    ],
    [
      'inventory failed, prescription cancelled → cancel-order',
      saga('CANCELLED_INVENTORY_FAILED', [order, rx], ['cancel-prescription']),
      'cancel-order',
    ],
    [
      'shipment failed → release-inventory first',
      saga('CANCELLED_SHIPMENT_FAILED', [order, rx, inv]),
      'release-inventory',
    ],
    [
      'shipment failed, inventory released → cancel-prescription',
      saga('CANCELLED_SHIPMENT_FAILED', [order, rx, inv], ['release-inventory']),
      'cancel-prescription',
    ],
    [
      'shipment failed, two undone → cancel-order',
      saga(
        'CANCELLED_SHIPMENT_FAILED',
        [order, rx, inv],
        ['release-inventory', 'cancel-prescription'],
      ),
      'cancel-order',
    ],
  ];

  for (const [name, input, expected] of CASES) {
    it(`${name}`, () => assert.equal(expectedTask(input), expected));
  }

  it('covers every state', () => {
    assert.deepEqual(new Set(CASES.map(([, s]) => s.state)), new Set(SAGA_STATES));
  });
});
