import { sql } from 'drizzle-orm';
import { jobKey, type Task } from '@/lib/saga/model';
import type { Tx } from './client';

/**
 * graphile-worker retries a job that threw (a crashed transaction, a lost connection) with its
 * own backoff; this bound is for those. Transient domain errors are counted by the saga
 * itself (RXSAGA_MAX_ATTEMPTS), and a SIGKILLed worker also burns an attempt, so it is generous.
 */
const JOB_MAX_ATTEMPTS = 25;

/**
 * Adds a task's job through the caller's transaction: it commits or rolls back with the events.
 * No graphile named queue: a named queue runs its jobs one at a time across all workers, and
 * sagas are independent. A saga's own tasks never overlap because each locks the saga row.
 */
export async function enqueueTask(tx: Tx, sagaId: string, task: Task, runAt: Date | null): Promise<void> {
  await tx.execute(sql`select graphile_worker.add_job(
    identifier => ${task}::text,
    payload => ${JSON.stringify({ sagaId })}::json,
    run_at => ${runAt ? runAt.toISOString() : null}::timestamptz,
    max_attempts => ${JOB_MAX_ATTEMPTS}::int,
    job_key => ${jobKey(sagaId, task)}::text
  )`);
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
 * 0.17 runs to complete a job that is in no named queue (`_private_jobs` is its table; the
 * integration tests exercise it).
 */
export async function completeJobInTransaction(tx: Tx, jobId: string): Promise<void> {
  await tx.execute(sql`delete from graphile_worker._private_jobs where id = ${jobId}::bigint and job_queue_id is null`);
}
