import type { Stats } from '@/db/queries/stats';
import { STEPS, STEP_AWAITED_IN, type SagaState, type Step } from '@/lib/saga/model';

export interface FunnelStage {
  step: Step;
  /** Sagas that got to this step (started it). */
  reached: number;
  /** Sagas refused at this step (its rule failed, or retries ran out). */
  failed: number;
  /** Sagas waiting on this step now. */
  waiting: number;
}

const WAITING_STATE: Partial<Record<Step, SagaState>> = Object.fromEntries(
  Object.entries(STEP_AWAITED_IN).map(([state, step]) => [step, state]),
);

/**
 * Where sagas stop, from the window's stats: every saga reaches "create order"; each later step
 * is reached by those that passed the one before. A step's failures are its business refusals
 * plus the escalations (retries exhausted) charged to it.
 */
export function failureFunnel(
  stats: Pick<Stats, 'total' | 'countsByState' | 'failuresByTask'>,
): FunnelStage[] {
  const failuresOf = (step: Step) => {
    const f = stats.failuresByTask.find((t) => t.task === step);
    return f ? f.business + f.intervention : 0;
  };
  let reached = stats.total;
  return STEPS.map((step) => {
    const waitingState = WAITING_STATE[step];
    const waiting = waitingState ? stats.countsByState[waitingState] : 0;
    const failed = Math.min(reached - waiting, failuresOf(step));
    const stage = { step, reached, failed: Math.max(0, failed), waiting };
    reached = Math.max(0, reached - waiting - stage.failed);
    return stage;
  });
}
