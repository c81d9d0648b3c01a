import { asc, eq, sql } from 'drizzle-orm';
import type { Task } from '@/lib/saga/model';
import type { DbOrTx, Tx } from './client';
import { enqueueTask, rawSql, readTimestamp, type RawTimestamp } from './saga-store';
import { taskPauses } from './schema';

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
  return readTaskPause(task, await taskPauseStatement(tx, task));
}

type PauseRecord = { reason: string; paused_by: string; paused_at: RawTimestamp };

/** findTaskPause's statement, not yet sent: a task pipelines it behind its saga lock. */
export function taskPauseStatement(tx: Tx, task: Task): PromiseLike<PauseRecord[]> {
  return rawSql(tx)<PauseRecord[]>`
    select reason, paused_by, paused_at from task_pauses where task = ${task} for share`;
}

export function readTaskPause(task: Task, rows: readonly PauseRecord[]): TaskPause | null {
  const [row] = rows;
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

export async function listTaskPauses(db: DbOrTx): Promise<TaskPause[]> {
  const rows = await db.select().from(taskPauses).orderBy(asc(taskPauses.pausedAt));
  return rows.map((r) => ({ ...r, task: r.task as Task }));
}

/** Records the pause; null when the task was already paused (that pause stays as it was). */
export async function insertTaskPause(
  tx: Tx,
  pause: Omit<TaskPause, 'pausedAt'>,
): Promise<TaskPause | null> {
  const [row] = await tx.insert(taskPauses).values(pause).onConflictDoNothing().returning();
  return row ? { ...row, task: pause.task } : null;
}

/** Ends the pause; null when the task was not paused. Waits for tasks holding a saga at it. */
export async function deleteTaskPause(tx: Tx, task: Task): Promise<TaskPause | null> {
  const [row] = await tx.delete(taskPauses).where(eq(taskPauses.task, task)).returning();
  return row ? { ...row, task } : null;
}

/** Sagas waiting at each task (rows of sagas that moved on since do not count). */
export async function countHeldSagas(db: DbOrTx): Promise<Map<Task, number>> {
  const rows = await db.execute<{ task: Task; n: number }>(sql`
    select p.task, count(*)::int as n from paused_sagas p
    join order_fulfillment_sagas s on s.saga_id = p.saga_id and s.current_task = p.task
    group by p.task`);
  return new Map(rows.map((r) => [r.task, r.n]));
}

/**
 * Puts up to `limit` sagas held at `task` back on the queue, oldest hold first, and drops their
 * holds. A held saga that moved on meanwhile (an operator cancelled it) just loses its hold.
 * SKIP LOCKED: two releases never take the same saga. Returns how many jobs were added and
 * whether holds remain.
 */
export async function releaseHeldSagas(
  tx: Tx,
  task: Task,
  limit: number,
): Promise<{ released: number; more: boolean }> {
  const raw = rawSql(tx);
  const taken = await raw<{ saga_id: string; waiting: boolean }[]>`
    with batch as (
      select saga_id from paused_sagas where task = ${task}
      order by paused_at, saga_id limit ${limit + 1} for update skip locked)
    select b.saga_id::text, coalesce(s.current_task = ${task} and not s.needs_intervention, false) as waiting
    from batch b left join order_fulfillment_sagas s on s.saga_id = b.saga_id`;
  const batch = taken.slice(0, limit);
  const waiting = batch.filter((r) => r.waiting);
  await Promise.all([
    raw`delete from paused_sagas where saga_id = any(${batch.map((r) => r.saga_id)}::uuid[])`,
    // One wake-up for the batch: idle workers fetch every runnable job when woken.
    ...waiting.map((r, i) =>
      enqueueTask(tx, { sagaId: r.saga_id, task, runAt: null, wake: i === 0 }),
    ),
  ]);
  return { released: waiting.length, more: taken.length > limit };
}
