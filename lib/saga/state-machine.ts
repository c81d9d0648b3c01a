import type { SagaState } from './model';

/** The seed's state machine signals: what happened to the saga, named in the past tense. */
export const SAGA_SIGNALS = [
  'PrescriptionCreated',
  'PrescriptionFailed',
  'InventoryReserved',
  'InventoryReservationFailed',
  'ShipmentInitiated',
  'ShipmentInitiationFailed',
  'InventoryReleased',
  'PrescriptionCancelled',
  'OrderCancelled',
  'CancelRequested',
] as const;
export type SagaSignal = (typeof SAGA_SIGNALS)[number];

export type Transition =
  { ok: true; from: SagaState; to: SagaState } | { ok: false; rejection: TransitionRejection };

export interface TransitionRejection {
  kind: 'invalid_transition';
  state: SagaState;
  signal: SagaSignal;
  message: string;
}

type Table = { [S in SagaState]: Partial<Record<SagaSignal, SagaState>> };

/**
 * Every state × signal pair not listed here is refused. An operator cancel of an in-flight
 * saga enters the same compensating state as a failure of the step it was waiting for, so the
 * unwind is the same: undo what was done, newest first.
 */
const TABLE: Table = {
  PENDING_PRESCRIPTION: {
    PrescriptionCreated: 'PENDING_INVENTORY_RESERVATION',
    PrescriptionFailed: 'CANCELLED_PRESCRIPTION_FAILED',
    CancelRequested: 'CANCELLED_PRESCRIPTION_FAILED',
  },
  PENDING_INVENTORY_RESERVATION: {
    InventoryReserved: 'PENDING_SHIPMENT',
    InventoryReservationFailed: 'CANCELLED_INVENTORY_FAILED',
    CancelRequested: 'CANCELLED_INVENTORY_FAILED',
  },
  PENDING_SHIPMENT: {
    ShipmentInitiated: 'COMPLETED',
    ShipmentInitiationFailed: 'CANCELLED_SHIPMENT_FAILED',
    CancelRequested: 'CANCELLED_SHIPMENT_FAILED',
  },
  CANCELLED_PRESCRIPTION_FAILED: {
    OrderCancelled: 'CANCELLED',
  },
  CANCELLED_INVENTORY_FAILED: {
    PrescriptionCancelled: 'CANCELLED_INVENTORY_FAILED',
    OrderCancelled: 'CANCELLED',
  },
  CANCELLED_SHIPMENT_FAILED: {
    InventoryReleased: 'CANCELLED_SHIPMENT_FAILED',
    PrescriptionCancelled: 'CANCELLED_SHIPMENT_FAILED',
    OrderCancelled: 'CANCELLED',
  },
  COMPLETED: {},
  CANCELLED: {},
};

export function transition(state: SagaState, signal: SagaSignal): Transition {
  const to = TABLE[state][signal];
  if (to === undefined) {
    return {
      ok: false,
      rejection: {
        kind: 'invalid_transition',
        state,
        signal,
        message: `${signal} is not allowed in state ${state}`,
      },
    };
  }
  return { ok: true, from: state, to };
}
