import { compensatedStep, compensationPlan, nextCompensation } from './compensation-plan';
import { clipReason, type EventPayload, type NewEvent } from './events';
import {
  STEP_AWAITED_IN,
  isCompensationTask,
  type CompensationTask,
  type SagaState,
  type StepTask,
  type Task,
} from './model';
import { expectedTask, type Saga } from './saga';
import { transition, type SagaSignal } from './state-machine';

/**
 * What a command or task does to a saga: events to append (in order) and the next job.
 * Every function here is pure; the caller appends, projects and enqueues in one transaction.
 */
export interface Decision {
  events: NewEvent[];
  enqueue: { task: Task; runAt: Date | null } | null;
  /** Jobs that are no longer expected (an operator cancel overtook a queued step). */
  dequeue: Task[];
}

export interface Refusal {
  kind: 'conflict';
  message: string;
}

export type StepSuccessEvent = Extract<
  NewEvent,
  { type: 'order.prescription_created' | 'order.inventory_reserved' | 'order.shipment_initiated' }
>;
export type StepFailureEvent = Extract<
  NewEvent,
  {
    type:
      | 'order.prescription_failed'
      | 'order.inventory_reservation_failed'
      | 'order.shipment_initiation_failed';
  }
>;
export type CompensationEvent = Extract<
  NewEvent,
  { type: 'order.prescription_cancelled' | 'order.inventory_released' | 'order.cancelled' }
>;

export function isStepFailure(
  event: StepSuccessEvent | StepFailureEvent,
): event is StepFailureEvent {
  return event.type.endsWith('_failed');
}

const SIGNAL_OF: Record<
  StepSuccessEvent['type'] | StepFailureEvent['type'] | CompensationEvent['type'],
  SagaSignal
> = {
  'order.prescription_created': 'PrescriptionCreated',
  'order.prescription_failed': 'PrescriptionFailed',
  'order.inventory_reserved': 'InventoryReserved',
  'order.inventory_reservation_failed': 'InventoryReservationFailed',
  'order.shipment_initiated': 'ShipmentInitiated',
  'order.shipment_initiation_failed': 'ShipmentInitiationFailed',
  'order.inventory_released': 'InventoryReleased',
  'order.prescription_cancelled': 'PrescriptionCancelled',
  'order.cancelled': 'OrderCancelled',
};

/** Unique per saga: a repeated append of the same fact is refused by the event store. */
const onceKey = (saga: Saga, what: string) => `${saga.sagaId}:${what}`;

function move(saga: Saga, signal: SagaSignal): { from: SagaState; to: SagaState } {
  const t = transition(saga.state, signal);
  if (!t.ok) throw new Error(t.rejection.message);
  return t;
}

function stateChanged(saga: Saga, from: SagaState, to: SagaState, trigger: string): NewEvent[] {
  if (from === to) return [];
  const payload: EventPayload<'order_fulfillment_saga.state_changed'> = { from, to, trigger };
  return [
    {
      type: 'order_fulfillment_saga.state_changed',
      payload,
      idempotencyKey: onceKey(saga, `state:${to}`),
    },
  ];
}

function assertExpected(saga: Saga, task: Task): void {
  const expected = expectedTask(saga);
  if (expected !== task) throw new Error(`saga ${saga.sagaId} expects ${expected}, not ${task}`);
}

/** The order is created: the saga starts and waits for its prescription. */
export function sagaStarted(order: EventPayload<'order.created'>): Decision {
  return {
    events: [
      { type: 'order.created', payload: order, idempotencyKey: `${order.sagaId}:order.created` },
      {
        type: 'order_fulfillment_saga.started',
        payload: { sagaId: order.sagaId, orderId: order.orderId, patientId: order.patientId },
        idempotencyKey: `${order.sagaId}:started`,
      },
    ],
    enqueue: { task: 'create-prescription', runAt: null },
    dequeue: [],
  };
}

export function stepSucceeded(saga: Saga, step: StepTask, event: StepSuccessEvent): Decision {
  assertExpected(saga, step);
  const { from, to } = move(saga, SIGNAL_OF[event.type]);
  const events: NewEvent[] = [
    { ...event, idempotencyKey: onceKey(saga, event.type) },
    ...stateChanged(saga, from, to, event.type),
  ];
  if (to === 'COMPLETED') {
    events.push({
      type: 'order_fulfillment_saga.completed',
      payload: { orderId: saga.orderId },
      idempotencyKey: onceKey(saga, 'completed'),
    });
    return { events, enqueue: null, dequeue: [] };
  }
  const nextStep = STEP_AWAITED_IN[to];
  if (!nextStep) throw new Error(`no step awaited in ${to}`);
  return { events, enqueue: { task: nextStep, runAt: null }, dequeue: [] };
}

export function stepFailed(saga: Saga, step: StepTask, event: StepFailureEvent): Decision {
  assertExpected(saga, step);
  const { from, to } = move(saga, SIGNAL_OF[event.type]);
  const first = compensationPlan(saga.completedSteps)[0];
  if (!first) throw new Error(`nothing to compensate in saga ${saga.sagaId}`);
  return {
    events: [
      { ...event, idempotencyKey: onceKey(saga, event.type) },
      ...stateChanged(saga, from, to, event.type),
    ],
    enqueue: { task: first, runAt: null },
    dequeue: [],
  };
}

export function compensated(
  saga: Saga,
  task: CompensationTask,
  event: CompensationEvent,
): Decision {
  assertExpected(saga, task);
  const { from, to } = move(saga, SIGNAL_OF[event.type]);
  const events: NewEvent[] = [
    { ...event, idempotencyKey: onceKey(saga, event.type) },
    {
      type: 'order_fulfillment_saga.compensation_recorded',
      payload: { task, compensates: compensatedStep(task) },
      idempotencyKey: onceKey(saga, `compensation:${task}`),
    },
    ...stateChanged(saga, from, to, event.type),
  ];
  const next = nextCompensation(saga.completedSteps, [...saga.compensationsDone, task]);
  if (to === 'CANCELLED') {
    if (next) throw new Error(`saga ${saga.sagaId} cancelled with ${next} still to run`);
    if (!saga.failedStep)
      throw new Error(`saga ${saga.sagaId} is compensating with no failed step`);
    events.push({
      type: 'order_fulfillment_saga.failed',
      payload: { failedStep: saga.failedStep, reason: saga.failureReason ?? saga.failedStep },
      idempotencyKey: onceKey(saga, 'failed'),
    });
    return { events, enqueue: null, dequeue: [] };
  }
  if (!next) throw new Error(`saga ${saga.sagaId} in ${to} has no compensation left`);
  return { events, enqueue: { task: next, runAt: null }, dequeue: [] };
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
}

/** Exponential backoff: base, 2×base, 4×base… */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return policy.baseDelayMs * 2 ** Math.max(0, attempt - 1);
}

/**
 * A transient error in the expected task: schedule another attempt, or, once attempts run
 * out, flag the saga for a human rather than fail it silently.
 */
export function attemptFailed(
  saga: Saga,
  task: Task,
  error: string,
  policy: RetryPolicy,
  now: Date,
): Decision {
  assertExpected(saga, task);
  const attempt = saga.attempts + 1;
  if (attempt >= policy.maxAttempts) {
    return interventionRequired(
      saga,
      `${task} failed after ${attempt} attempts: ${error}`,
      attempt,
    );
  }
  const runAt = new Date(now.getTime() + backoffMs(policy, attempt));
  return {
    events: [
      {
        type: 'order_fulfillment_saga.attempt_failed',
        payload: {
          task,
          attempt,
          maxAttempts: policy.maxAttempts,
          error: clipReason(error),
          retryAt: runAt.toISOString(),
        },
      },
    ],
    enqueue: { task, runAt },
    dequeue: [],
  };
}

/** Flags the saga; the job that would have moved it on is not queued again until a retry. */
export function interventionRequired(
  saga: Saga,
  reason: string,
  attempts = saga.attempts,
): Decision {
  return {
    events: [
      {
        type: 'order_fulfillment_saga.intervention_required',
        payload: { task: expectedTask(saga), reason: clipReason(reason), attempts },
      },
    ],
    enqueue: null,
    dequeue: [],
  };
}

export function retryRequested(saga: Saga, actor: string, reason: string): Decision | Refusal {
  const task = expectedTask(saga);
  if (!task) return { kind: 'conflict', message: `saga is ${saga.state}: nothing to retry` };
  if (!saga.needsIntervention) {
    return {
      kind: 'conflict',
      message: 'saga does not need intervention: it is still being worked on',
    };
  }
  return {
    events: [{ type: 'order_fulfillment_saga.retry_requested', payload: { task, actor, reason } }],
    enqueue: { task, runAt: null },
    dequeue: [],
  };
}

export function cancelRequested(saga: Saga, actor: string, reason: string): Decision | Refusal {
  const t = transition(saga.state, 'CancelRequested');
  if (!t.ok) {
    const why = isCompensationTask(expectedTask(saga) ?? '')
      ? 'it is already being compensated (retry it if it is stuck)'
      : 'it has finished';
    return {
      kind: 'conflict',
      message: `saga is ${saga.state}: it cannot be cancelled because ${why}`,
    };
  }
  const first = compensationPlan(saga.completedSteps)[0];
  const awaited = STEP_AWAITED_IN[saga.state];
  if (!first || !awaited) throw new Error(`cannot plan a cancel of saga ${saga.sagaId}`);
  return {
    events: [
      {
        type: 'order_fulfillment_saga.cancel_requested',
        payload: { actor, reason, fromState: saga.state },
      },
      ...stateChanged(saga, t.from, t.to, 'order_fulfillment_saga.cancel_requested'),
    ],
    enqueue: { task: first, runAt: null },
    dequeue: [awaited],
  };
}

export function isRefusal(x: Decision | Refusal): x is Refusal {
  return 'kind' in x;
}

/**
 * What an injected fault (a drill, lib/domain/fault-injection.ts) does to the task about to
 * run: nothing; a transient error (thrown by the caller, so it is retried like a real one); or
 * a decision in place of the task's own: a step fails as if its rule refused it, and a
 * compensation, which must never be skipped, is handed to a human.
 */
export type FaultOutcome =
  | { kind: 'none' }
  | { kind: 'transient'; message: string }
  | { kind: 'decided'; decision: Decision };

export function decideInjectedFault(
  saga: Saga,
  task: Task,
  injected: 'failure' | 'transient' | null,
): FaultOutcome {
  if (injected === null) return { kind: 'none' };
  if (injected === 'transient')
    return { kind: 'transient', message: `injected transient fault in ${task}` };
  if (isCompensationTask(task)) {
    return {
      kind: 'decided',
      decision: interventionRequired(saga, `${task} failed: injected fault`, saga.attempts + 1),
    };
  }
  return {
    kind: 'decided',
    decision: stepFailed(saga, task, injectedFailureEvent(task, saga.orderId)),
  };
}

function injectedFailureEvent(task: StepTask, orderId: string): StepFailureEvent {
  const payload = { orderId, reason: `injected fault in ${task}`, code: 'INJECTED_FAULT' };
  switch (task) {
    case 'create-prescription':
      return { type: 'order.prescription_failed', payload };
    case 'reserve-inventory':
      return { type: 'order.inventory_reservation_failed', payload: { ...payload, shortages: [] } };
    case 'initiate-shipment':
      return { type: 'order.shipment_initiation_failed', payload };
  }
}
