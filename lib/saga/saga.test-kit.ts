/**
 * Test-only helpers for the pure saga core: "given events, when command, then events and next
 * job". A SagaHistory plays the event store: it validates each decided event against its
 * schema, gives it a global position, a stream version and a recorded time, and folds it.
 */
import assert from 'node:assert/strict';
import {
  attemptFailed,
  cancelRequested,
  compensated,
  isRefusal,
  sagaStarted,
  stepFailed,
  stepSucceeded,
} from './decide';
import type {
  CompensationEvent,
  Decision,
  Refusal,
  RetryPolicy,
  StepFailureEvent,
  StepSuccessEvent,
} from './decide';
import {
  parseEventPayload,
  type EventPayload,
  type EventType,
  type NewEvent,
  type StoredEvent,
} from './events';
import {
  isCompensationTask,
  isStepTask,
  isTerminal,
  type CompensationTask,
  type SagaState,
  type StepTask,
} from './model';
import { evolve, expectedTask, type Saga } from './saga';

export const SAGA_ID = '6f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c';
export const OTHER_SAGA_ID = '0b6f3c9e-2d41-4a7f-8e15-93c0d2a7b4f1';
export const ORDER_ID = 'ORD-1001';
export const T0 = new Date('2026-03-01T09:00:00.000Z');

export function orderCreatedPayload(
  sagaId = SAGA_ID,
  orderId = ORDER_ID,
): EventPayload<'order.created'> {
  return {
    orderId,
    sagaId,
    patientId: 'PAT-1001',
    prescriberId: 'PR-2001',
    medications: [{ sku: 'AMOX-500', quantity: 2 }],
    shippingAddress: {
      line1: '1 Canal Street',
      city: 'Amsterdam',
      postalCode: '1011AB',
      country: 'NL',
    },
    idempotencyKey: null,
    requestHash: null,
  };
}

/** The stream an event belongs to, spelled out here rather than borrowed from the code under test. */
function streamIdOf(type: EventType, sagaId: string, orderId: string): string {
  if (type.startsWith('order_fulfillment_saga.')) return `order_fulfillment_saga-${sagaId}`;
  if (type.startsWith('order.')) return `order-${orderId}`;
  throw new Error(`no stream for ${type}`);
}

export class SagaHistory {
  readonly events: StoredEvent[] = [];
  private folded: Saga | null = null;
  private readonly versions = new Map<string, number>();
  private position = 0;

  constructor(
    readonly sagaId = SAGA_ID,
    readonly orderId = ORDER_ID,
  ) {}

  /** The saga folded from every event so far. */
  get saga(): Saga {
    if (!this.folded) throw new Error('no saga yet: record sagaStarted first');
    return this.folded;
  }

  /** Appends a decision's events (each one second after the previous) and folds them. */
  record(decision: Pick<Decision, 'events'>): StoredEvent[] {
    const stored = decision.events.map((e) => this.store(e));
    for (const event of stored) {
      this.events.push(event);
      this.folded = evolve(this.folded, event);
    }
    return stored;
  }

  private store(event: NewEvent): StoredEvent {
    const streamId = streamIdOf(event.type, this.sagaId, this.orderId);
    const version = (this.versions.get(streamId) ?? 0) + 1;
    this.versions.set(streamId, version);
    const position = ++this.position;
    return {
      position,
      streamId,
      version,
      type: event.type,
      payload: parseEventPayload(event.type, event.payload),
      metadata: { correlationId: this.sagaId, idempotencyKey: event.idempotencyKey ?? null },
      recordedAt: new Date(T0.getTime() + position * 1000),
    } as StoredEvent;
  }

  get types(): string[] {
    return this.events.map((e) => e.type);
  }
}

export const SUCCESS_EVENT: Record<StepTask, StepSuccessEvent> = {
  'create-prescription': {
    type: 'order.prescription_created',
    payload: { orderId: ORDER_ID, prescriptionId: 'RX-1', prescriberId: 'PR-2001' },
  },
  'reserve-inventory': {
    type: 'order.inventory_reserved',
    payload: { orderId: ORDER_ID, lines: [{ sku: 'AMOX-500', quantity: 2 }] },
  },
  'initiate-shipment': {
    type: 'order.shipment_initiated',
    payload: { orderId: ORDER_ID, shipmentId: 'SHP-1', carrierReference: 'SIM-ref' },
  },
};

export const FAILURE_EVENT: Record<StepTask, StepFailureEvent> = {
  'create-prescription': {
    type: 'order.prescription_failed',
    payload: {
      orderId: ORDER_ID,
      reason: 'prescriber PR-REVOKED has a revoked licence',
      code: 'PRESCRIBER_REVOKED',
    },
  },
  'reserve-inventory': {
    type: 'order.inventory_reservation_failed',
    payload: {
      orderId: ORDER_ID,
      reason: 'insufficient stock: AMOX-500 (requested 2, available 0)',
      code: 'INSUFFICIENT_STOCK',
      shortages: [{ sku: 'AMOX-500', requested: 2, available: 0 }],
    },
  },
  'initiate-shipment': {
    type: 'order.shipment_initiation_failed',
    payload: {
      orderId: ORDER_ID,
      reason: 'carrier rejected the shipment: address undeliverable',
      code: 'UNDELIVERABLE',
    },
  },
};

export const COMPENSATION_EVENT: Record<CompensationTask, CompensationEvent> = {
  'release-inventory': {
    type: 'order.inventory_released',
    payload: { orderId: ORDER_ID, lines: [{ sku: 'AMOX-500', quantity: 2 }] },
  },
  'cancel-prescription': {
    type: 'order.prescription_cancelled',
    payload: { orderId: ORDER_ID, prescriptionId: 'RX-1' },
  },
  'cancel-order': {
    type: 'order.cancelled',
    payload: { orderId: ORDER_ID, reason: 'saga failed' },
  },
};

/** A history with the saga started (order created). */
export function started(sagaId = SAGA_ID): SagaHistory {
  const h = new SagaHistory(sagaId);
  h.record(sagaStarted(orderCreatedPayload(sagaId)));
  return h;
}

function expectedStep(h: SagaHistory): StepTask {
  const task = expectedTask(h.saga);
  if (!task || !isStepTask(task))
    throw new Error(`saga in ${h.saga.state} does not wait for a step`);
  return task;
}

/** The step the saga waits for succeeds. */
export function succeed(h: SagaHistory): Decision {
  const step = expectedStep(h);
  const d = stepSucceeded(h.saga, step, SUCCESS_EVENT[step]);
  h.record(d);
  return d;
}

/** The step the saga waits for fails for a business reason. */
export function fail(h: SagaHistory): Decision {
  const step = expectedStep(h);
  const d = stepFailed(h.saga, step, FAILURE_EVENT[step]);
  h.record(d);
  return d;
}

/** The compensation the saga waits for is done. */
export function compensate(h: SagaHistory): Decision {
  const task = expectedTask(h.saga);
  if (!task || !isCompensationTask(task))
    throw new Error(`saga in ${h.saga.state} does not wait for a compensation`);
  const d = compensated(h.saga, task, COMPENSATION_EVENT[task]);
  h.record(d);
  return d;
}

/** Runs compensations until the saga is terminal; returns their decisions in order. */
export function unwind(h: SagaHistory): Decision[] {
  const decisions: Decision[] = [];
  while (!isTerminal(h.saga.state)) {
    if (decisions.length > 3) throw new Error('unwind does not end');
    decisions.push(compensate(h));
  }
  return decisions;
}

/** A history in `state`, reached the ordinary way (steps succeed, then one fails or all succeed). */
export function historyIn(state: Saga['state'], sagaId = SAGA_ID): SagaHistory {
  const h = started(sagaId);
  const stepsBefore: Record<Saga['state'], number> = {
    PENDING_PRESCRIPTION: 0,
    PENDING_INVENTORY_RESERVATION: 1,
    PENDING_SHIPMENT: 2,
    COMPLETED: 3,
    CANCELLED_PRESCRIPTION_FAILED: 0,
    CANCELLED_INVENTORY_FAILED: 1,
    CANCELLED_SHIPMENT_FAILED: 2,
    CANCELLED: 0,
  };
  for (let i = 0; i < stepsBefore[state]; i++) succeed(h);
  if (state.startsWith('CANCELLED')) fail(h);
  if (state === 'CANCELLED') unwind(h);
  if (h.saga.state !== state) throw new Error(`could not reach ${state}: got ${h.saga.state}`);
  return h;
}

export const POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1000 };
export const ACTOR = 'ops@pharmacy';

export const nextJob = (d: Decision) => d.enqueue?.task ?? null;
export const typesOf = (events: readonly (NewEvent | StoredEvent)[]) => events.map((e) => e.type);
export const lastEvent = (h: SagaHistory) => h.events[h.events.length - 1];

export function decided(x: Decision | Refusal): Decision {
  if (isRefusal(x)) assert.fail(`refused: ${x.message}`);
  return x;
}

export function refused(x: Decision | Refusal): Refusal {
  if (!isRefusal(x)) assert.fail(`accepted: ${typesOf(x.events).join(', ')}`);
  return x;
}

/** An operator cancels the saga. */
export function cancel(h: SagaHistory, reason = 'patient withdrew'): Decision {
  const d = decided(cancelRequested(h.saga, ACTOR, reason));
  h.record(d);
  return d;
}

/** Transient errors in the awaited task until attempts run out: the saga is flagged. */
export function exhaust(h: SagaHistory, policy = POLICY): Decision[] {
  const decisions: Decision[] = [];
  while (!h.saga.needsIntervention) {
    const task = expectedTask(h.saga);
    assert.ok(task && decisions.length < policy.maxAttempts);
    const d = attemptFailed(h.saga, task, 'carrier unavailable', policy, T0);
    h.record(d);
    decisions.push(d);
  }
  return decisions;
}

/** Each step failing (or cancelled while awaited): where it waits, where it unwinds, what it undoes. */
export const UNWINDS: ReadonlyArray<{
  step: StepTask;
  pending: SagaState;
  compensating: SagaState;
  undo: CompensationTask[];
}> = [
  {
    step: 'create-prescription',
    pending: 'PENDING_PRESCRIPTION',
    compensating: 'CANCELLED_PRESCRIPTION_FAILED',
    undo: ['cancel-order'],
  },
  {
    step: 'reserve-inventory',
    pending: 'PENDING_INVENTORY_RESERVATION',
    compensating: 'CANCELLED_INVENTORY_FAILED',
    undo: ['cancel-prescription', 'cancel-order'],
  },
  {
    step: 'initiate-shipment',
    pending: 'PENDING_SHIPMENT',
    compensating: 'CANCELLED_SHIPMENT_FAILED',
    undo: ['release-inventory', 'cancel-prescription', 'cancel-order'],
  },
];

/** One valid payload per event type: the mapped type makes a missing type a compile error. */
export const SAMPLE_PAYLOADS: { [T in EventType]: EventPayload<T> } = {
  'order.created': orderCreatedPayload(),
  'order.prescription_created': {
    orderId: ORDER_ID,
    prescriptionId: 'RX-1',
    prescriberId: 'PR-2001',
  },
  'order.prescription_failed': { orderId: ORDER_ID, reason: 'revoked', code: 'PRESCRIBER_REVOKED' },
  'order.inventory_reserved': { orderId: ORDER_ID, lines: [{ sku: 'AMOX-500', quantity: 2 }] },
  'order.inventory_reservation_failed': {
    orderId: ORDER_ID,
    reason: 'insufficient stock',
    code: 'INSUFFICIENT_STOCK',
    shortages: [{ sku: 'AMOX-500', requested: 2, available: 1 }],
  },
  'order.shipment_initiated': {
    orderId: ORDER_ID,
    shipmentId: 'SHP-1',
    carrierReference: 'SIM-ref',
  },
  'order.shipment_initiation_failed': {
    orderId: ORDER_ID,
    reason: 'undeliverable',
    code: 'UNDELIVERABLE',
  },
  'order.prescription_cancelled': { orderId: ORDER_ID, prescriptionId: 'RX-1' },
  'order.inventory_released': { orderId: ORDER_ID, lines: [{ sku: 'AMOX-500', quantity: 2 }] },
  'order.cancelled': { orderId: ORDER_ID, reason: 'saga failed' },
  'order_fulfillment_saga.started': { sagaId: SAGA_ID, orderId: ORDER_ID, patientId: 'PAT-1001' },
  'order_fulfillment_saga.state_changed': {
    from: 'PENDING_PRESCRIPTION',
    to: 'PENDING_INVENTORY_RESERVATION',
    trigger: 'order.prescription_created',
  },
  'order_fulfillment_saga.compensation_recorded': {
    task: 'cancel-order',
    compensates: 'create-order',
  },
  'order_fulfillment_saga.failed': { failedStep: 'create-prescription', reason: 'revoked' },
  'order_fulfillment_saga.completed': { orderId: ORDER_ID },
  'order_fulfillment_saga.retry_requested': {
    task: 'create-prescription',
    actor: 'operator',
    reason: 'try again',
  },
  'order_fulfillment_saga.cancel_requested': {
    actor: 'operator',
    reason: 'patient asked',
    fromState: 'PENDING_SHIPMENT',
  },
  'order_fulfillment_saga.attempt_failed': {
    task: 'initiate-shipment',
    attempt: 1,
    maxAttempts: 3,
    error: 'carrier unavailable',
    retryAt: '2026-03-01T09:00:01.000Z',
  },
  'order_fulfillment_saga.intervention_required': {
    task: 'initiate-shipment',
    reason: 'attempts ran out',
    attempts: 3,
  },
};
