import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  attemptFailed,
  backoffMs,
  compensated,
  interventionRequired,
  sagaStarted,
  stepFailed,
  stepSucceeded,
} from './decide';
import type { CompensationTask, Task } from './model';
import { expectedTask } from './saga';
import {
  COMPENSATION_EVENT,
  FAILURE_EVENT,
  POLICY,
  SAGA_ID,
  SUCCESS_EVENT,
  T0,
  UNWINDS,
  compensate,
  fail,
  historyIn,
  lastEvent,
  nextJob,
  orderCreatedPayload,
  started,
  succeed,
  typesOf,
  unwind,
} from './saga.test-kit';

describe('sagaStarted', () => {
  it('records order.created then saga.started, and queues create-prescription', () => {
    const order = orderCreatedPayload();
    const d = sagaStarted(order);
    assert.deepEqual(typesOf(d.events), ['order.created', 'order_fulfillment_saga.started']);
    assert.deepEqual(d.events[0]?.payload, order);
    assert.deepEqual(d.events[1]?.payload, {
      sagaId: SAGA_ID,
      orderId: order.orderId,
      patientId: 'PAT-1001',
    });
    assert.deepEqual(d.enqueue, { task: 'create-prescription', runAt: null });
    assert.deepEqual(d.dequeue, []);
  });
});

describe('happy path', () => {
  it('runs create-prescription → reserve-inventory → initiate-shipment → COMPLETED, then nothing', () => {
    const h = started();
    const jobs = [succeed(h), succeed(h), succeed(h)].map(nextJob);
    assert.deepEqual(jobs, ['reserve-inventory', 'initiate-shipment', null]);
    assert.deepEqual(h.types, [
      'order.created',
      'order_fulfillment_saga.started',
      'order.prescription_created',
      'order_fulfillment_saga.state_changed',
      'order.inventory_reserved',
      'order_fulfillment_saga.state_changed',
      'order.shipment_initiated',
      'order_fulfillment_saga.state_changed',
      'order_fulfillment_saga.completed',
    ]);
    const changes = h.events.flatMap((e) =>
      e.type === 'order_fulfillment_saga.state_changed' ? [e.payload] : [],
    );
    assert.deepEqual(changes, [
      {
        from: 'PENDING_PRESCRIPTION',
        to: 'PENDING_INVENTORY_RESERVATION',
        trigger: 'order.prescription_created',
      },
      {
        from: 'PENDING_INVENTORY_RESERVATION',
        to: 'PENDING_SHIPMENT',
        trigger: 'order.inventory_reserved',
      },
      { from: 'PENDING_SHIPMENT', to: 'COMPLETED', trigger: 'order.shipment_initiated' },
    ]);
  });

  it('ends COMPLETED with completedAt set, every step done and no task expected', () => {
    const h = historyIn('COMPLETED');
    assert.equal(h.saga.state, 'COMPLETED');
    const entered = h.events.find(
      (e) => e.type === 'order_fulfillment_saga.state_changed' && e.payload.to === 'COMPLETED',
    );
    assert.ok(entered);
    assert.deepEqual(h.saga.completedAt, entered.recordedAt);
    assert.deepEqual(h.saga.completedSteps, [
      'create-order',
      'create-prescription',
      'reserve-inventory',
      'initiate-shipment',
    ]);
    assert.equal(expectedTask(h.saga), null);
    assert.equal(h.saga.needsIntervention, false);
    assert.equal(h.saga.failedStep, null);
  });
});

/** The events one compensation appends: its order event, then its record. */
const compensationTypes = (task: CompensationTask) => [
  COMPENSATION_EVENT[task].type,
  'order_fulfillment_saga.compensation_recorded',
];

describe('a failing step', () => {
  for (const { step, pending, compensating, undo } of UNWINDS) {
    describe(`${step} fails`, () => {
      it(`records the failure, enters ${compensating} and queues ${undo[0]}`, () => {
        const h = historyIn(pending);
        const d = fail(h);
        assert.deepEqual(typesOf(d.events), [
          FAILURE_EVENT[step].type,
          'order_fulfillment_saga.state_changed',
        ]);
        assert.deepEqual(d.events[0]?.payload, FAILURE_EVENT[step].payload);
        assert.deepEqual(d.events[1]?.payload, {
          from: pending,
          to: compensating,
          trigger: FAILURE_EVENT[step].type,
        });
        assert.deepEqual(d.enqueue, { task: undo[0], runAt: null });
        assert.deepEqual(d.dequeue, []);
        assert.equal(h.saga.state, compensating);
      });

      it(`compensates ${undo.join(' → ')}, one at a time, and ends CANCELLED with saga.failed last`, () => {
        const h = historyIn(compensating);
        const from = h.events.length;
        const decisions = unwind(h);

        assert.deepEqual(decisions.map(nextJob), [...undo.slice(1), null]);
        assert.deepEqual(h.types.slice(from), [
          ...undo.flatMap(compensationTypes),
          'order_fulfillment_saga.state_changed',
          'order_fulfillment_saga.failed',
        ]);
        const recorded = h.events.flatMap((e) =>
          e.type === 'order_fulfillment_saga.compensation_recorded' ? [e.payload.task] : [],
        );
        assert.deepEqual(recorded, undo);
        const last = lastEvent(h);
        assert.equal(last?.type, 'order_fulfillment_saga.failed');
        assert.deepEqual(last?.payload, {
          failedStep: step,
          reason: FAILURE_EVENT[step].payload.reason,
        });

        assert.equal(h.saga.state, 'CANCELLED');
        assert.deepEqual(h.saga.compensationsDone, undo);
        assert.ok(h.saga.completedAt);
        assert.equal(expectedTask(h.saga), null);
      });

      it('never leaves the compensating state before the last compensation', () => {
        const h = historyIn(compensating);
        for (const task of undo.slice(0, -1)) {
          const d = compensate(h);
          assert.equal(h.saga.state, compensating, `after ${task}`);
          assert.ok(!typesOf(d.events).includes('order_fulfillment_saga.state_changed'));
        }
      });
    });
  }
});

describe('transient errors', () => {
  it('backoffMs doubles from the base delay: base × 2^(attempt − 1)', () => {
    const policy = { maxAttempts: 10, baseDelayMs: 100 };
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoffMs(policy, n)),
      [100, 200, 400, 800, 1600],
    );
  });

  for (const policy of [POLICY, { maxAttempts: 5, baseDelayMs: 250 }]) {
    it(`with ${policy.maxAttempts} attempts and base ${policy.baseDelayMs} ms: retries with backoff, then flags the saga with no job`, () => {
      const h = historyIn('PENDING_SHIPMENT');
      for (let attempt = 1; attempt < policy.maxAttempts; attempt++) {
        const now = new Date(T0.getTime() + attempt * 60_000);
        const d = attemptFailed(h.saga, 'initiate-shipment', `503 #${attempt}`, policy, now);
        const runAt = new Date(now.getTime() + policy.baseDelayMs * 2 ** (attempt - 1));
        assert.deepEqual(d.events, [
          {
            type: 'order_fulfillment_saga.attempt_failed',
            payload: {
              task: 'initiate-shipment',
              attempt,
              maxAttempts: policy.maxAttempts,
              error: `503 #${attempt}`,
              retryAt: runAt.toISOString(),
            },
          },
        ]);
        assert.deepEqual(d.enqueue, { task: 'initiate-shipment', runAt });
        h.record(d);
        assert.equal(h.saga.attempts, attempt);
        assert.equal(h.saga.needsIntervention, false);
      }

      const last = attemptFailed(h.saga, 'initiate-shipment', 'still 503', policy, T0);
      assert.deepEqual(typesOf(last.events), ['order_fulfillment_saga.intervention_required']);
      const payload = last.events[0]?.payload as { task: Task; reason: string; attempts: number };
      assert.equal(payload.task, 'initiate-shipment');
      assert.equal(payload.attempts, policy.maxAttempts);
      assert.match(payload.reason, /initiate-shipment.*still 503/);
      assert.equal(last.enqueue, null);
      assert.deepEqual(last.dequeue, []);
      h.record(last);
      assert.equal(h.saga.needsIntervention, true);
      assert.equal(h.saga.attempts, policy.maxAttempts);
      assert.equal(h.saga.state, 'PENDING_SHIPMENT');
    });
  }

  it('with maxAttempts 1, the first transient error flags the saga', () => {
    const d = attemptFailed(
      started().saga,
      'create-prescription',
      'boom',
      { maxAttempts: 1, baseDelayMs: 10 },
      T0,
    );
    assert.deepEqual(typesOf(d.events), ['order_fulfillment_saga.intervention_required']);
    assert.equal(d.enqueue, null);
  });

  it('retries a compensation the same way as a step', () => {
    const h = historyIn('CANCELLED_SHIPMENT_FAILED');
    const d = attemptFailed(h.saga, 'release-inventory', 'lock timeout', POLICY, T0);
    assert.deepEqual(d.enqueue, {
      task: 'release-inventory',
      runAt: new Date(T0.getTime() + 1000),
    });
  });

  it('a step that succeeds after transient errors starts the next step with no attempts counted', () => {
    const h = historyIn('PENDING_SHIPMENT');
    h.record(attemptFailed(h.saga, 'initiate-shipment', '503', POLICY, T0));
    h.record(attemptFailed(h.saga, 'initiate-shipment', '503', POLICY, T0));
    succeed(h);
    assert.equal(h.saga.state, 'COMPLETED');
    assert.equal(h.saga.attempts, 0);
    assert.equal(h.saga.lastError, null);
  });

  it('interventionRequired (a stalled saga) flags the awaited task with the attempts so far and queues nothing', () => {
    const h = historyIn('PENDING_INVENTORY_RESERVATION');
    h.record(attemptFailed(h.saga, 'reserve-inventory', 'deadlock', POLICY, T0));
    const d = interventionRequired(h.saga, 'stalled for 300 s');
    assert.deepEqual(d, {
      events: [
        {
          type: 'order_fulfillment_saga.intervention_required',
          payload: { task: 'reserve-inventory', reason: 'stalled for 300 s', attempts: 1 },
        },
      ],
      enqueue: null,
      dequeue: [],
    });
  });
});

describe('a task the saga does not expect is refused with an error', () => {
  it('a step that is not awaited', () => {
    const saga = started().saga;
    assert.throws(
      () => stepSucceeded(saga, 'reserve-inventory', SUCCESS_EVENT['reserve-inventory']),
      /expects create-prescription, not reserve-inventory/,
    );
  });

  it('a failure of a step that is not awaited', () => {
    const saga = started().saga;
    assert.throws(
      () => stepFailed(saga, 'initiate-shipment', FAILURE_EVENT['initiate-shipment']),
      /expects create-prescription, not initiate-shipment/,
    );
  });

  it('the awaited step reporting another step’s event', () => {
    const saga = started().saga;
    assert.throws(
      () => stepSucceeded(saga, 'create-prescription', SUCCESS_EVENT['reserve-inventory']),
      /InventoryReserved is not allowed in state PENDING_PRESCRIPTION/,
    );
  });

  it('a step redelivered after it succeeded', () => {
    const saga = historyIn('PENDING_INVENTORY_RESERVATION').saga;
    assert.throws(
      () => stepSucceeded(saga, 'create-prescription', SUCCESS_EVENT['create-prescription']),
      /expects reserve-inventory, not create-prescription/,
    );
  });

  it('a step on a completed saga', () => {
    const saga = historyIn('COMPLETED').saga;
    assert.throws(
      () => stepSucceeded(saga, 'initiate-shipment', SUCCESS_EVENT['initiate-shipment']),
      /expects null, not initiate-shipment/,
    );
  });

  it('a compensation while a step is awaited', () => {
    const saga = historyIn('PENDING_SHIPMENT').saga;
    assert.throws(
      () => compensated(saga, 'cancel-order', COMPENSATION_EVENT['cancel-order']),
      /expects initiate-shipment, not cancel-order/,
    );
  });

  it('a compensation out of order', () => {
    const saga = historyIn('CANCELLED_SHIPMENT_FAILED').saga;
    assert.throws(
      () => compensated(saga, 'cancel-order', COMPENSATION_EVENT['cancel-order']),
      /expects release-inventory, not cancel-order/,
    );
  });

  it('a compensation on a cancelled saga', () => {
    const saga = historyIn('CANCELLED').saga;
    assert.throws(
      () => compensated(saga, 'cancel-order', COMPENSATION_EVENT['cancel-order']),
      /expects null, not cancel-order/,
    );
  });

  it('a transient error of a task that is not awaited', () => {
    const saga = started().saga;
    assert.throws(
      () => attemptFailed(saga, 'initiate-shipment', 'x', POLICY, T0),
      /expects create-prescription, not initiate-shipment/,
    );
  });
});
