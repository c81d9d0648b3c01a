import { nextCompensation } from './compensation-plan';
import { clipReason, type StoredEvent } from './events';
import {
  STEP_AWAITED_IN,
  isTerminal,
  type CompensationTask,
  type SagaState,
  type Step,
  type StepTask,
  type Task,
} from './model';

/**
 * The saga as folded from its events. Pure: nothing here says how it is stored. The
 * `order_fulfillment_sagas` row is this plus the store's bookkeeping (where the saga's two streams
 * stand: db/saga-store/sagas.ts, StreamHeads) and the task it waits for (expectedTask).
 */
export interface Saga {
  sagaId: string;
  orderId: string;
  patientId: string;
  state: SagaState;
  completedSteps: Step[];
  compensationsDone: CompensationTask[];
  failedStep: StepTask | null;
  failureReason: string | null;
  needsIntervention: boolean;
  interventionReason: string | null;
  interventionSince: Date | null;
  /** Failed attempts of the task the saga currently waits for. */
  attempts: number;
  lastError: string | null;
  startedAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

/** The task the saga waits for, or null when it is finished. */
export function expectedTask(
  saga: Pick<Saga, 'state' | 'completedSteps' | 'compensationsDone'>,
): Task | null {
  if (isTerminal(saga.state)) return null;
  return (
    STEP_AWAITED_IN[saga.state] ?? nextCompensation(saga.completedSteps, saga.compensationsDone)
  );
}

/** Folds one stored event into the saga. Pure: live projection and replay both use it. */
export function evolve(saga: Saga | null, event: StoredEvent): Saga {
  if (event.type === 'order.created') {
    if (saga) throw new Error(`saga ${saga.sagaId} already exists`);
    const p = event.payload;
    return {
      sagaId: p.sagaId,
      orderId: p.orderId,
      patientId: p.patientId,
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
      startedAt: event.recordedAt,
      updatedAt: event.recordedAt,
      completedAt: null,
    };
  }
  if (!saga) throw new Error(`${event.type} before order.created in ${event.streamId}`);

  const next: Saga = { ...saga, updatedAt: event.recordedAt };
  const progressed = (s: Saga): Saga => ({ ...s, attempts: 0, lastError: null });

  switch (event.type) {
    case 'order.prescription_created':
      return progressed({
        ...next,
        completedSteps: [...next.completedSteps, 'create-prescription'],
      });
    case 'order.inventory_reserved':
      return progressed({ ...next, completedSteps: [...next.completedSteps, 'reserve-inventory'] });
    case 'order.shipment_initiated':
      return progressed({ ...next, completedSteps: [...next.completedSteps, 'initiate-shipment'] });
    case 'order.prescription_failed':
      return progressed({
        ...next,
        failedStep: 'create-prescription',
        failureReason: event.payload.reason,
      });
    case 'order.inventory_reservation_failed':
      return progressed({
        ...next,
        failedStep: 'reserve-inventory',
        failureReason: event.payload.reason,
      });
    case 'order.shipment_initiation_failed':
      return progressed({
        ...next,
        failedStep: 'initiate-shipment',
        failureReason: event.payload.reason,
      });
    case 'order_fulfillment_saga.state_changed':
      return {
        ...next,
        state: event.payload.to,
        completedAt: isTerminal(event.payload.to) ? event.recordedAt : next.completedAt,
      };
    case 'order_fulfillment_saga.compensation_recorded':
      return progressed({
        ...next,
        compensationsDone: [...next.compensationsDone, event.payload.task],
      });
    case 'order_fulfillment_saga.retry_requested':
      return progressed({
        ...next,
        needsIntervention: false,
        interventionReason: null,
        interventionSince: null,
      });
    case 'order_fulfillment_saga.cancel_requested': {
      const awaited = STEP_AWAITED_IN[event.payload.fromState] ?? null;
      return progressed({
        ...next,
        failedStep: awaited,
        failureReason: clipReason(`cancelled by ${event.payload.actor}: ${event.payload.reason}`),
        needsIntervention: false,
        interventionReason: null,
        interventionSince: null,
      });
    }
    case 'order_fulfillment_saga.attempt_failed':
      return { ...next, attempts: event.payload.attempt, lastError: event.payload.error };
    case 'order_fulfillment_saga.intervention_required':
      return {
        ...next,
        attempts: event.payload.attempts,
        needsIntervention: true,
        interventionReason: event.payload.reason,
        interventionSince: event.recordedAt,
      };
    case 'order_fulfillment_saga.started':
    case 'order_fulfillment_saga.failed':
    case 'order_fulfillment_saga.completed':
    case 'order.prescription_cancelled':
    case 'order.inventory_released':
    case 'order.cancelled':
      return next;
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled event ${(unreachable as StoredEvent).type}`);
    }
  }
}
