import type { SagaEventView } from '@/db/queries/sagas';
import { compensatedStep, compensationPlan } from '@/lib/saga/compensation-plan';
import { cancelRequested, isRefusal, retryRequested } from '@/lib/saga/decide';
import { isEventType, type StoredEvent } from '@/lib/saga/events';
import { STEPS, STEP_AWAITED_IN, type CompensationTask, type Step } from '@/lib/saga/model';
import { evolve, expectedTask, type Saga } from '@/lib/saga/saga';

/**
 * What the saga page draws, derived from the saga's own events with the pure core (evolve,
 * compensationPlan, the operator decisions): the page holds no second copy of the rules.
 */

export function toStoredEvents(events: readonly SagaEventView[]): StoredEvent[] {
  return events.flatMap((e) =>
    isEventType(e.type)
      ? [{ ...e, recordedAt: new Date(e.recordedAt) } as unknown as StoredEvent]
      : [],
  );
}

/** The saga as its events fold; null if the timeline cannot be folded (then the page shows the row). */
export function foldSaga(events: readonly SagaEventView[]): Saga | null {
  try {
    return toStoredEvents(events).reduce<Saga | null>((saga, event) => evolve(saga, event), null);
  } catch {
    return null;
  }
}

export interface AllowedActions {
  retry: boolean;
  cancel: boolean;
}

/** Asks the same decisions the commands use whether a retry or a cancel would be accepted now. */
export function allowedActions(saga: Saga | null): AllowedActions {
  if (!saga) return { retry: false, cancel: false };
  const accepted = (decide: typeof retryRequested) => {
    try {
      return !isRefusal(decide(saga, 'dashboard', 'check'));
    } catch {
      return false;
    }
  };
  return { retry: accepted(retryRequested), cancel: accepted(cancelRequested) };
}

export type StepStatus =
  'done' | 'running' | 'stuck' | 'failed' | 'cancelled' | 'waiting' | 'not-reached';
export type UndoStatus = 'rolled-back' | 'running' | 'incomplete' | 'waiting';

export interface DiagramModel {
  steps: { step: Step; status: StepStatus }[];
  completed: boolean;
  /** Null when nothing failed or was cancelled. Newest first: the order the unwind runs in. */
  unwind: {
    status: 'rolling-back' | 'rolled-back' | 'incomplete';
    items: { task: CompensationTask; undoes: Step; status: UndoStatus }[];
  } | null;
}

/** `cancelledByOperator`: the step the saga waited for was stopped by an operator, not failed. */
export function diagramModel(saga: Saga, cancelledByOperator = false): DiagramModel {
  const awaited = STEP_AWAITED_IN[saga.state];
  const next = expectedTask(saga);
  const steps = STEPS.map((step) => {
    let status: StepStatus;
    if (saga.completedSteps.includes(step)) status = 'done';
    else if (saga.failedStep === step) status = cancelledByOperator ? 'cancelled' : 'failed';
    else if (awaited === step) status = saga.needsIntervention ? 'stuck' : 'running';
    else status = saga.failedStep ? 'not-reached' : 'waiting';
    return { step, status };
  });
  if (!saga.failedStep) return { steps, completed: saga.state === 'COMPLETED', unwind: null };

  const items = compensationPlan(saga.completedSteps).map((task) => {
    let status: UndoStatus;
    if (saga.compensationsDone.includes(task)) status = 'rolled-back';
    else if (next === task) status = saga.needsIntervention ? 'incomplete' : 'running';
    else status = 'waiting';
    return { task, undoes: compensatedStep(task), status };
  });
  const unwindStatus =
    saga.state === 'CANCELLED'
      ? 'rolled-back'
      : items.some((i) => i.status === 'incomplete')
        ? 'incomplete'
        : 'rolling-back';
  return { steps, completed: false, unwind: { status: unwindStatus, items } };
}
