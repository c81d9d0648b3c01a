import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rollFault } from '@/lib/domain/fault-injection';
import { decideInjectedFault } from './decide';
import { STEP_TASKS, type StepTask } from './model';
import { expectedTask } from './saga';
import { historyIn, typesOf } from './saga.test-kit';

const STATE_AWAITING: Record<StepTask, Parameters<typeof historyIn>[0]> = {
  'create-prescription': 'PENDING_PRESCRIPTION',
  'reserve-inventory': 'PENDING_INVENTORY_RESERVATION',
  'initiate-shipment': 'PENDING_SHIPMENT',
};
const FAILURE_OF: Record<StepTask, string> = {
  'create-prescription': 'order.prescription_failed',
  'reserve-inventory': 'order.inventory_reservation_failed',
  'initiate-shipment': 'order.shipment_initiation_failed',
};

describe('decideInjectedFault', () => {
  it('no fault rolled: the task runs as it would', () => {
    const saga = historyIn('PENDING_PRESCRIPTION').saga;
    assert.deepEqual(decideInjectedFault(saga, 'create-prescription', null), { kind: 'none' });
  });

  it('a transient fault is an error to retry, naming the task', () => {
    const saga = historyIn('PENDING_SHIPMENT').saga;
    assert.deepEqual(decideInjectedFault(saga, 'initiate-shipment', 'transient'), {
      kind: 'transient',
      message: 'injected transient fault in initiate-shipment',
    });
  });

  for (const task of STEP_TASKS) {
    it(`an injected failure of ${task} fails the step with its own failure event and starts the unwind`, () => {
      const saga = historyIn(STATE_AWAITING[task]).saga;
      const out = decideInjectedFault(saga, task, 'failure');
      assert.equal(out.kind, 'decided');
      if (out.kind !== 'decided') return;
      assert.equal(typesOf(out.decision.events)[0], FAILURE_OF[task]);
      assert.equal((out.decision.events[0]?.payload as { code?: string }).code, 'INJECTED_FAULT');
      assert.equal(typesOf(out.decision.events)[1], 'order_fulfillment_saga.state_changed');
      assert.ok(out.decision.enqueue, 'a compensation is queued');
    });
  }

  it('an injected failure of a compensation flags the saga instead of skipping it', () => {
    const saga = historyIn('CANCELLED_SHIPMENT_FAILED').saga;
    const task = expectedTask(saga);
    assert.equal(task, 'release-inventory');
    const out = decideInjectedFault(saga, 'release-inventory', 'failure');
    assert.equal(out.kind, 'decided');
    if (out.kind !== 'decided') return;
    assert.deepEqual(typesOf(out.decision.events), [
      'order_fulfillment_saga.intervention_required',
    ]);
    assert.deepEqual(out.decision.events[0]?.payload, {
      task: 'release-inventory',
      reason: 'release-inventory failed: injected fault',
      attempts: 1,
    });
    assert.equal(out.decision.enqueue, null);
  });

  it('rollFault maps the random number onto failure, then transient, then none', () => {
    const setting = {
      task: 'create-prescription' as const,
      failureRate: 0.2,
      transientRate: 0.3,
      latencyMs: 0,
    };
    assert.equal(rollFault(setting, 0.1), 'failure');
    assert.equal(rollFault(setting, 0.4), 'transient');
    assert.equal(rollFault(setting, 0.6), null);
  });
});
