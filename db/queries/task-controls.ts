import { TASKS, type Task } from '@/lib/saga/model';
import type { DbOrTx } from '../client';
import { countHeldSagas, listTaskPauses } from '../pauses';

export interface PauseView {
  task: Task;
  reason: string;
  pausedBy: string;
  pausedAt: string;
}

export interface TaskControlView {
  task: Task;
  pause: PauseView | null;
  /** Sagas held at the task: waiting for the pause to end, or for the release after a resume. */
  waiting: number;
}

export async function listPauseViews(db: DbOrTx): Promise<PauseView[]> {
  return (await listTaskPauses(db)).map((p) => ({ ...p, pausedAt: p.pausedAt.toISOString() }));
}

export async function listTaskControls(db: DbOrTx): Promise<TaskControlView[]> {
  const [pauses, held] = await Promise.all([listPauseViews(db), countHeldSagas(db)]);
  const byTask = new Map(pauses.map((p) => [p.task, p]));
  return TASKS.map((task) => ({
    task,
    pause: byTask.get(task) ?? null,
    waiting: held.get(task) ?? 0,
  }));
}
