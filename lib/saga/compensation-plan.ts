import type { CompensationTask, Step } from './model';

/** The undo of each step. The last step has none: when it succeeds the saga is complete. */
const UNDO: Record<Step, CompensationTask | null> = {
  'create-order': 'cancel-order',
  'create-prescription': 'cancel-prescription',
  'reserve-inventory': 'release-inventory',
  'initiate-shipment': null,
};

/**
 * What to undo after a failure, in the order to run it: the undo of every completed step,
 * newest first. An undo is registered only once its step succeeded (a failed step changed
 * nothing, so there is nothing of it to undo).
 */
export function compensationPlan(completedSteps: readonly Step[]): CompensationTask[] {
  return [...completedSteps]
    .reverse()
    .map((step) => UNDO[step])
    .filter((task): task is CompensationTask => task !== null);
}

/** The next compensation to run, given those already done, or null when the unwind is over. */
export function nextCompensation(
  completedSteps: readonly Step[],
  compensationsDone: readonly CompensationTask[],
): CompensationTask | null {
  const plan = compensationPlan(completedSteps);
  return plan[compensationsDone.length] ?? null;
}

export function compensatedStep(task: CompensationTask): Step {
  const entry = Object.entries(UNDO).find(([, undo]) => undo === task);
  if (!entry) throw new Error(`no step is undone by ${task}`);
  return entry[0] as Step;
}
