import type { Task } from '@/lib/saga/model';
import type { Tx } from './client';
import { rawSql, readTimestamp, type RawTimestamp } from './raw';

/**
 * Paused tasks and the sagas waiting at them (task_pauses, paused_sagas in db/schema.ts).
 * The engine's side: a task that finds its task paused holds the saga instead of running.
 */

export interface TaskPause {
  task: Task;
  reason: string;
  pausedBy: string;
  pausedAt: Date;
}

/** graphile-worker task that puts the held sagas of a resumed task back on the queue. */
export const RELEASE_PAUSED_TASK = 'release-paused-sagas';
export const releaseJobKey = (task: Task) => `${RELEASE_PAUSED_TASK}:${task}`;

/**
 * The pause of `task`, read by every saga task in its own transaction (pipelined with the saga
 * lock, so no extra round trip). FOR SHARE: a resume (which deletes the row) waits for a task
 * that saw the pause to commit its hold, so the release that follows the resume finds that saga;
 * a task that reads after the resume sees no pause and runs. No row, no lock: free when unpaused.
 */
export async function findTaskPause(tx: Tx, task: Task): Promise<TaskPause | null> {
  const [row] = await rawSql(tx)<{ reason: string; paused_by: string; paused_at: RawTimestamp }[]>`
    select reason, paused_by, paused_at from task_pauses where task = ${task} for share`;
  return row
    ? { task, reason: row.reason, pausedBy: row.paused_by, pausedAt: readTimestamp(row.paused_at) }
    : null;
}

/**
 * Holds the saga at its paused task: recorded here, in the transaction that took the task's job
 * off the queue (the caller completes or claimed it), so the saga waits without a job, its state
 * and attempts unchanged, until the release adds the job again.
 */
export async function holdSagaAtPausedTask(tx: Tx, sagaId: string, task: Task): Promise<void> {
  await rawSql(
    tx,
  )`insert into paused_sagas (saga_id, task, paused_at) values (${sagaId}, ${task}, now())
    on conflict (saga_id) do update set task = excluded.task, paused_at = excluded.paused_at`;
}
