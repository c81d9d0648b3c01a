import { sql } from 'drizzle-orm';
import { jobKey, type Task } from '@/lib/saga/model';
import type { Tx } from './client';
import { rawSql, timestampParam } from './raw';

/**
 * graphile-worker retries a job that threw (a crashed transaction, a lost connection) with its
 * own backoff; this bound is for those. Transient domain errors are counted by the saga
 * itself (RXSAGA_MAX_ATTEMPTS), and a SIGKILLed worker also burns an attempt, so it is generous.
 */
const JOB_MAX_ATTEMPTS = 25;

/**
 * Jobs are written straight into graphile-worker 0.17's job table (`_private_jobs`; the version
 * is pinned in package.json) instead of through `graphile_worker.add_job`: that PL/pgSQL
 * function cost ≈ 1 ms of server time per call, three times per saga, the largest single item
 * in `npm run bench`'s pg_stat_statements. The statements below are what add_job does for a
 * job with a key in its default ('replace') mode, minus named queues, flags and priorities,
 * which RxSaga does not use. Every saga test runs its jobs through graphile-worker.
 *
 * No graphile named queue: a named queue runs its jobs one at a time across all workers, and
 * sagas are independent. A saga's own tasks never overlap because each locks the saga row.
 */

export interface EnqueueOptions {
  /**
   * Wake idle workers (graphile-worker LISTENs on `jobs:insert`). A worker that will run the
   * job itself right after this commit (see jobs/run-saga-task.ts) skips it: NOTIFY takes a
   * lock that commits queue behind, and nobody else needs waking. If that worker dies first,
   * the job is still there and the others find it on their next poll.
   */
  wake: boolean;
}

/** Adds a task's job through the caller's transaction: it commits or rolls back with the events. */
export async function enqueueTask(
  tx: Tx,
  sagaId: string,
  task: Task,
  runAt: Date | null,
  options: EnqueueOptions = { wake: true },
): Promise<void> {
  const key = jobKey(sagaId, task);
  const raw = rawSql(tx);
  const insert = () => raw<{ id: string }[]>`
    insert into graphile_worker._private_jobs as jobs (task_id, payload, run_at, max_attempts, key)
    select tasks.id, ${JSON.stringify({ sagaId })}::json,
      coalesce(${timestampParam(runAt)}::timestamptz, now()), ${JOB_MAX_ATTEMPTS}::smallint, ${key}::text
    from graphile_worker._private_tasks as tasks where tasks.identifier = ${task}::text
    on conflict (key) do update set
      task_id = excluded.task_id, payload = excluded.payload, run_at = excluded.run_at,
      max_attempts = excluded.max_attempts, revision = jobs.revision + 1,
      attempts = 0, last_error = null, updated_at = now()
    where jobs.locked_at is null
    returning jobs.id::text as id`;
  const writes: Promise<unknown>[] = [insert()];
  if (options.wake) {
    // The random part keeps PostgreSQL from folding two notifications of one transaction.
    writes.push(raw`select pg_notify('jobs:insert', '{"r":' || random()::text || ',"count":1}')`);
  }
  let [inserted] = (await Promise.all(writes)) as [{ id: string }[]];
  if (inserted.length === 0) {
    // Rare: a worker holds a job with this key (an operator retried while it ran). As add_job
    // does, that job keeps running but gives its key up and will not be retried; ours is added.
    await raw`update graphile_worker._private_jobs
      set key = null, attempts = max_attempts, updated_at = now()
      where key = ${key} and is_available is not true`;
    inserted = await insert();
  }
  if (inserted.length !== 1) {
    throw new Error(
      `job ${key} was not added: graphile-worker does not know task "${task}" (run the migrations)`,
    );
  }
}

/** Drops a queued job that is no longer expected; a job already running finds it stale and no-ops. */
export async function dequeueTask(tx: Tx, sagaId: string, task: Task): Promise<void> {
  await tx.execute(sql`select graphile_worker.remove_job(${jobKey(sagaId, task)}::text)`);
}

/**
 * Completes the running job inside the task's own transaction, so the job disappears exactly
 * when the step's effects commit: a worker that dies after the commit cannot leave a finished
 * step's job behind, and graphile-worker's own completion afterwards finds nothing to delete
 * (no WAL write, so no second durable commit per task). This is the statement graphile-worker
 * 0.17 runs to complete a job that is in no named queue.
 */
export async function completeJobInTransaction(tx: Tx, jobId: string): Promise<void> {
  await rawSql(
    tx,
  )`delete from graphile_worker._private_jobs where id = ${jobId}::bigint and job_queue_id is null`;
}

/**
 * Takes a saga's queued job for `task` for the caller's transaction, so the worker that just
 * committed the step before it can run it at once: deleting the row is the claim. Only a job
 * no worker holds can be taken (one graphile-worker locked first is left to it), and if the
 * transaction does not commit, the row is back, unlocked, for any worker to run. Returns the
 * job's id, or null when there is no such job to take.
 */
export async function claimQueuedJob(tx: Tx, sagaId: string, task: Task): Promise<string | null> {
  const rows = await rawSql(tx)<{ id: string }[]>`delete from graphile_worker._private_jobs
    where key = ${jobKey(sagaId, task)}::text and locked_at is null and run_at <= now()
    returning id::text as id`;
  return rows[0]?.id ?? null;
}
