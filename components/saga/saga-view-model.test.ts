import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SagaEventView } from '@/db/queries/sagas';
import {
  cancel,
  compensate,
  exhaust,
  fail,
  historyIn,
  started,
  succeed,
  type SagaHistory,
} from '@/lib/saga/saga.test-kit';
import { failureFunnel } from '@/components/charts/funnel';
import { allowedActions, diagramModel, foldSaga } from './saga-view-model';

/** The saga page sees events as the API sends them: JSON, with ISO times. */
const asApi = (h: SagaHistory): SagaEventView[] =>
  JSON.parse(JSON.stringify(h.events)) as SagaEventView[];
const statuses = (h: SagaHistory) => {
  const saga = foldSaga(asApi(h));
  assert.ok(saga);
  return saga;
};

describe('saga page view model', () => {
  it('folds the API timeline into the same saga the engine has', () => {
    const h = historyIn('PENDING_SHIPMENT');
    assert.deepEqual(foldSaga(asApi(h)), h.saga);
  });

  it('a running saga: steps done, the awaited one running, the rest waiting; cancel allowed, retry not', () => {
    const h = historyIn('PENDING_INVENTORY_RESERVATION');
    const model = diagramModel(statuses(h));
    assert.deepEqual(
      model.steps.map((s) => s.status),
      ['done', 'done', 'running', 'waiting'],
    );
    assert.equal(model.unwind, null);
    assert.deepEqual(allowedActions(statuses(h)), { retry: false, cancel: true });
  });

  it('a shipment failure unwinds newest first; each undo is "rolled back" once done', () => {
    const h = historyIn('CANCELLED_SHIPMENT_FAILED');
    compensate(h);
    let model = diagramModel(statuses(h));
    assert.deepEqual(
      model.unwind?.items.map((i) => [i.task, i.undoes, i.status]),
      [
        ['release-inventory', 'reserve-inventory', 'rolled-back'],
        ['cancel-prescription', 'create-prescription', 'running'],
        ['cancel-order', 'create-order', 'waiting'],
      ],
    );
    assert.equal(model.unwind?.status, 'rolling-back');
    compensate(h);
    compensate(h);
    model = diagramModel(statuses(h));
    assert.equal(model.unwind?.status, 'rolled-back');
    assert.deepEqual(
      model.steps.map((s) => s.status),
      ['done', 'done', 'done', 'failed'],
    );
    assert.deepEqual(allowedActions(statuses(h)), { retry: false, cancel: false });
  });

  it('a compensation that ran out of attempts is "rollback incomplete", and can be retried but not cancelled', () => {
    const h = historyIn('CANCELLED_INVENTORY_FAILED');
    exhaust(h);
    const model = diagramModel(statuses(h));
    assert.equal(model.unwind?.status, 'incomplete');
    assert.equal(model.unwind?.items[0]?.status, 'incomplete');
    assert.deepEqual(allowedActions(statuses(h)), { retry: true, cancel: false });
  });

  it('a step stuck after its retries is shown stuck; both retry and cancel are allowed', () => {
    const h = historyIn('PENDING_SHIPMENT');
    exhaust(h);
    assert.equal(diagramModel(statuses(h)).steps[3]?.status, 'stuck');
    assert.deepEqual(allowedActions(statuses(h)), { retry: true, cancel: true });
  });

  it('an operator cancel marks the awaited step cancelled, not failed', () => {
    const h = started();
    succeed(h);
    cancel(h);
    const model = diagramModel(statuses(h), true);
    assert.deepEqual(
      model.steps.map((s) => s.status),
      ['done', 'done', 'cancelled', 'not-reached'],
    );
  });

  it('a prescription failure undoes only the order', () => {
    const h = started();
    fail(h);
    assert.deepEqual(
      diagramModel(statuses(h)).unwind?.items.map((i) => i.task),
      ['cancel-order'],
    );
  });
});

describe('failure funnel', () => {
  it('each step is reached by those that passed the one before', () => {
    const zero = { business: 0, transient: 0, intervention: 0 };
    const stages = failureFunnel({
      total: 100,
      countsByState: {
        PENDING_PRESCRIPTION: 2,
        PENDING_INVENTORY_RESERVATION: 0,
        PENDING_SHIPMENT: 3,
        COMPLETED: 80,
        CANCELLED_PRESCRIPTION_FAILED: 0,
        CANCELLED_INVENTORY_FAILED: 0,
        CANCELLED_SHIPMENT_FAILED: 0,
        CANCELLED: 15,
      },
      failuresByTask: [
        { task: 'create-prescription', ...zero, business: 5 },
        { task: 'reserve-inventory', ...zero, business: 4 },
        { task: 'initiate-shipment', ...zero, business: 4, intervention: 2 },
      ],
    });
    assert.deepEqual(
      stages.map((s) => [s.step, s.reached, s.failed, s.waiting]),
      [
        ['create-order', 100, 0, 0],
        ['create-prescription', 100, 5, 2],
        ['reserve-inventory', 93, 4, 0],
        ['initiate-shipment', 89, 6, 3],
      ],
    );
  });
});
