import type { Tone } from '@/components/ui/badge';
import type { CompensationTask, SagaState, Step, Task } from '@/lib/saga/model';

/** How states, steps and compensations read on screen. Names stay the contract's; these are labels. */
export const STATE_TONE: Record<SagaState, Tone> = {
  PENDING_PRESCRIPTION: 'info',
  PENDING_INVENTORY_RESERVATION: 'info',
  PENDING_SHIPMENT: 'info',
  COMPLETED: 'success',
  CANCELLED_PRESCRIPTION_FAILED: 'warning',
  CANCELLED_INVENTORY_FAILED: 'warning',
  CANCELLED_SHIPMENT_FAILED: 'warning',
  CANCELLED: 'neutral',
};

export const STEP_LABEL: Record<Step, string> = {
  'create-order': 'Order',
  'create-prescription': 'Prescription',
  'reserve-inventory': 'Inventory',
  'initiate-shipment': 'Shipment',
};

export const STEP_DONE_LABEL: Record<Step, string> = {
  'create-order': 'Order created',
  'create-prescription': 'Prescription created',
  'reserve-inventory': 'Inventory reserved',
  'initiate-shipment': 'Shipment initiated',
};

export const COMPENSATION_LABEL: Record<CompensationTask, string> = {
  'release-inventory': 'Release inventory',
  'cancel-prescription': 'Cancel prescription',
  'cancel-order': 'Cancel order',
};

/** Tasks as an operator names them (Controls, the pause banner, a held saga's page). */
export const TASK_LABEL: Record<Task, string> = {
  'create-prescription': 'Create prescription',
  'reserve-inventory': 'Reserve inventory',
  'initiate-shipment': 'Initiate shipment',
  ...COMPENSATION_LABEL,
};
