/**
 * Glossary
 * - saga: one order's fulfillment, a sequence of steps with an undo for each.
 * - step: a unit of forward work (create the prescription, reserve inventory, initiate the
 *   shipment). Creating the order is the first step; the `createOrder` command does it.
 * - compensation: the undo of a step that succeeded, run newest first after a failure.
 * - task: a step or compensation run by graphile-worker; its identifier is the file name in
 *   `jobs/tasks/`, and its job key is `<sagaId>:<task>`.
 */

export const SAGA_STATES = [
  'PENDING_PRESCRIPTION',
  'PENDING_INVENTORY_RESERVATION',
  'PENDING_SHIPMENT',
  'COMPLETED',
  'CANCELLED_PRESCRIPTION_FAILED',
  'CANCELLED_INVENTORY_FAILED',
  'CANCELLED_SHIPMENT_FAILED',
  'CANCELLED',
] as const;
export type SagaState = (typeof SAGA_STATES)[number];

export const TERMINAL_STATES: readonly SagaState[] = ['COMPLETED', 'CANCELLED'];

/** Forward steps in order. `create-order` runs inside the createOrder command, not as a task. */
export const STEPS = [
  'create-order',
  'create-prescription',
  'reserve-inventory',
  'initiate-shipment',
] as const;
export type Step = (typeof STEPS)[number];

export const STEP_TASKS = [
  'create-prescription',
  'reserve-inventory',
  'initiate-shipment',
] as const;
export type StepTask = (typeof STEP_TASKS)[number];

export const COMPENSATION_TASKS = [
  'release-inventory',
  'cancel-prescription',
  'cancel-order',
] as const;
export type CompensationTask = (typeof COMPENSATION_TASKS)[number];

export const TASKS = [...STEP_TASKS, ...COMPENSATION_TASKS] as const;
export type Task = StepTask | CompensationTask;

export function isStepTask(task: string): task is StepTask {
  return (STEP_TASKS as readonly string[]).includes(task);
}

export function isCompensationTask(task: string): task is CompensationTask {
  return (COMPENSATION_TASKS as readonly string[]).includes(task);
}

export function isTask(task: string): task is Task {
  return isStepTask(task) || isCompensationTask(task);
}

export function isTerminal(state: SagaState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** The step a pending state waits for. */
export const STEP_AWAITED_IN: Partial<Record<SagaState, StepTask>> = {
  PENDING_PRESCRIPTION: 'create-prescription',
  PENDING_INVENTORY_RESERVATION: 'reserve-inventory',
  PENDING_SHIPMENT: 'initiate-shipment',
};

export const jobKey = (sagaId: string, task: Task): string => `${sagaId}:${task}`;
