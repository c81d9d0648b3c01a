import { jobKey, type Task } from '@/lib/saga/model';
import type { Tx } from '../client';
import { runPrepared } from './sql';

/**
 * Every statement that writes graphile-worker's tables directly (graphile-worker 0.17.3, pinned
 * in package.json) is in this file; graphile-jobs.int.test.ts compares the enqueue with
 * `graphile_worker.add_job` on a real database (rows, replacement, held keys, wake-up), so an
 * upgrade that changes what add_job does fails a test. Dequeuing calls remove_job itself.
 *
 * Why not add_job: that PL/pgSQL function cost ≈ 1 ms of server time per call, three times per
 * saga, the largest single item in `npm run bench`'s profile. ENQUEUE is what add_job does
 * for a job with a key in its default ('replace') mode, minus named queues, flags and
 * priorities, which RxSaga does not use: a new job, or the queued one of that key replaced
 * (new run_at, fresh attempts, revision + 1). A job of that key that a worker holds is not
 * touched: RELEASE_HELD then gives its key up (as add_job does) and ENQUEUE runs again.
 *
 * No graphile named queue: a named queue runs its jobs one at a time across all workers, and
 * sagas are independent. A saga's own tasks never overlap because each locks the saga row.
 */

/**
 * graphile-worker retries a job that threw (a crashed transaction, a lost connection) with its
 * own backoff; this bound is for those. Transient domain errors are counted by the saga
 * itself (RXSAGA_MAX_ATTEMPTS), and a SIGKILLed worker also burns an attempt, so it is generous.
 */
export const JOB_MAX_ATTEMPTS = 25;

const JOBS = 'graphile_worker._private_jobs';
const TASKS = 'graphile_worker._private_tasks';

/** The next job of a decision, as the enqueue statement takes it. */
export interface NextJob {
  sagaId: string;
  task: Task;
  runAt: Date | null;
  /**
   * Wake idle workers (graphile-worker LISTENs on `jobs:insert`). A worker that will run the
   * job itself right after this commit (see jobs/run-saga-task.ts) skips it: NOTIFY takes a
   * lock that commits queue behind, and nobody else needs waking. If that worker dies first,
   * the job is still there and the others find it on their next poll.
   */
  wake: boolean;
}

/**
 * The enqueue as two CTEs (`enqueued`, `woke`) that another statement can carry (the saga
 * write, see apply-decision.ts), its parameters numbered from `first`. With a null task
 * (`jobParams(null)`) both are empty. The caller must select from both: a CTE that only
 * reads is not run unless referenced.
 */
export function enqueueCtes(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `enqueued as (
    insert into ${JOBS} as jobs (task_id, payload, run_at, max_attempts, key)
    select tasks.id, ${p(1)}::json, coalesce(${p(2)}::timestamptz, now()), ${p(3)}::smallint, ${p(4)}::text
    from ${TASKS} as tasks where tasks.identifier = ${p(0)}::text
    on conflict (key) do update set
      task_id = excluded.task_id, payload = excluded.payload, run_at = excluded.run_at,
      max_attempts = excluded.max_attempts, revision = jobs.revision + 1,
      attempts = 0, last_error = null, updated_at = now()
    where jobs.locked_at is null
    returning jobs.id::text as id
  ), woke as (
    -- The random part keeps PostgreSQL from folding two notifications of one transaction.
    select pg_notify('jobs:insert', '{"r":' || random()::text || ',"count":1}')
    from enqueued where ${p(5)}::boolean
  )`;
}

/** The parameters of enqueueCtes, in order. */
export function jobParams(job: NextJob | null): unknown[] {
  if (!job) return [null, null, null, null, null, false];
  return [
    job.task,
    JSON.stringify({ sagaId: job.sagaId }),
    job.runAt?.toISOString() ?? null,
    JOB_MAX_ATTEMPTS,
    jobKey(job.sagaId, job.task),
    job.wake,
  ];
}

const ENQUEUE = `with ${enqueueCtes(1)} select (select id from enqueued) as id, (select count(*)::int from woke) as woke`;

const RELEASE_HELD = `update ${JOBS} set key = null, attempts = max_attempts, updated_at = now()
  where key = $1::text and is_available is not true`;

/**
 * Finishes an enqueue whose job was not added because a worker holds a job with this key (an
 * operator retried while it ran): as add_job does, that job keeps running but gives its key up
 * and will not be retried; ours is added.
 */
export async function enqueueAfterHeld(tx: Tx, job: NextJob): Promise<void> {
  await runPrepared(tx, RELEASE_HELD, [jobKey(job.sagaId, job.task)]);
  const [row] = await runPrepared<{ id: string | null }>(tx, ENQUEUE, jobParams(job));
  if (!row?.id) {
    throw new Error(
      `job ${jobKey(job.sagaId, job.task)} was not added: graphile-worker does not know task "${job.task}" (run the migrations)`,
    );
  }
}

/** Adds a task's job through the caller's transaction: it commits or rolls back with the events. */
export async function enqueueTask(tx: Tx, job: NextJob): Promise<void> {
  const [row] = await runPrepared<{ id: string | null }>(tx, ENQUEUE, jobParams(job));
  if (!row?.id) await enqueueAfterHeld(tx, job);
}

/**
 * Drops a queued job that is no longer expected (graphile_worker.remove_job itself); a job
 * already running finds it stale and no-ops. The statement, not yet sent (see `pipeline`).
 */
export function dequeueTask(tx: Tx, sagaId: string, task: Task): PromiseLike<unknown> {
  return runPrepared(tx, 'select graphile_worker.remove_job($1::text)', [jobKey(sagaId, task)]);
}

/**
 * Takes the job a task runs as, for the task's transaction, as a CTE (`taken`) of the
 * statement that locks the saga (see load-task.ts). Deleting the row is the claim:
 * - delivered by graphile-worker ($first = its id): the job disappears exactly when the step's
 *   effects commit, so a worker that dies after the commit cannot leave a finished step's job
 *   behind, and graphile-worker's own completion afterwards finds nothing to delete (no WAL
 *   write, so no second durable commit per task). This is the statement graphile-worker 0.17
 *   runs to complete a job that is in no named queue.
 * - taken inline ($first null, $first+1 = the key) right after this worker committed the step
 *   before it: only a job no worker holds can be taken (one graphile-worker locked first is
 *   left to it). If the transaction does not commit, the row is back, unlocked, for any worker.
 */
export function takeJobCte(first: number): string {
  const id = `$${first}::bigint`;
  const key = `$${first + 1}::text`;
  return `taken as (
    delete from ${JOBS}
    where case when ${id} is null
      then key = ${key} and locked_at is null and run_at <= now()
      else id = ${id} and job_queue_id is null end
    returning id::text as id
  )`;
}

/** The parameters of takeJobCte: the graphile job's id, or the key of the job to take inline. */
export function takeJobParams(
  sagaId: string,
  task: Task,
  job: { kind: 'graphile'; id: string } | { kind: 'inline' },
): unknown[] {
  return job.kind === 'graphile' ? [job.id, null] : [null, jobKey(sagaId, task)];
}

/**
 * ENQUEUE for many jobs in one statement (a bulk operation's batch, apply-decisions.ts), with a
 * graphile-worker priority: jobs of a lower priority (a larger number) wait while any of the
 * default priority 0 (the steps of new sagas) are due. Answers the keys it added or replaced,
 * with their ids; a key missing from the answer is held by a worker (finish it with
 * enqueueAfterHeld). One notification wakes as many workers as there are jobs.
 *
 * `lockedBy` (null: none): the jobs are added locked by that worker id, as graphile-worker's
 * fetch locks the jobs it hands out, so no other worker takes them: the caller runs them
 * itself (jobs/run-bulk-operation.ts). If it dies first, the sweeper releases them as it
 * releases any dead worker's jobs (jobs/sweeper.ts), and they run like any other; no wake-up.
 */
const ENQUEUE_MANY = `with enqueued as (
    insert into ${JOBS} as jobs (task_id, payload, run_at, max_attempts, key, priority, locked_at,
      locked_by)
    select tasks.id, j.payload::json, coalesce(j.run_at::timestamptz, now()), $4::smallint, j.key,
      $5::smallint, case when $7::text is not null then now() end, $7::text
    -- text[] and jsonb[], not timestamptz[] and json[]: the array types the driver serialises
    from unnest($1::text[], $2::jsonb[], $3::text[], $6::text[]) as j(task, payload, run_at, key)
    join ${TASKS} as tasks on tasks.identifier = j.task
    on conflict (key) do update set
      task_id = excluded.task_id, payload = excluded.payload, run_at = excluded.run_at,
      max_attempts = excluded.max_attempts, priority = excluded.priority,
      revision = jobs.revision + 1, attempts = 0, last_error = null, updated_at = now(),
      locked_at = excluded.locked_at, locked_by = excluded.locked_by
    where jobs.locked_at is null
    returning jobs.key, jobs.id::text as id
  ), woke as (
    select pg_notify('jobs:insert', '{"r":' || random()::text || ',"count":' || count(*) || '}')
    from enqueued where $7::text is null having count(*) > 0
  )
  select coalesce((select array_agg(key order by id) from enqueued), '{}') as keys,
    coalesce((select array_agg(id order by id) from enqueued), '{}') as ids,
    (select count(*)::int from woke) as woke`;

/** The statement (not yet sent, see `pipeline`) that enqueues `jobs` at `priority`. */
export function enqueueTasks(
  tx: Tx,
  jobs: readonly Omit<NextJob, 'wake'>[],
  priority: number,
  lockedBy: string | null = null,
): PromiseLike<{ keys: string[]; ids: string[]; woke: number }[]> {
  return runPrepared<{ keys: string[]; ids: string[]; woke: number }>(tx, ENQUEUE_MANY, [
    jobs.map((j) => j.task),
    jobs.map((j) => JSON.stringify({ sagaId: j.sagaId })),
    jobs.map((j) => j.runAt?.toISOString() ?? null),
    JOB_MAX_ATTEMPTS,
    priority,
    jobs.map((j) => jobKey(j.sagaId, j.task)),
    lockedBy,
  ]);
}

/** dequeueTask for many keys in one statement (not yet sent). */
export function dequeueTasks(
  tx: Tx,
  jobs: readonly { sagaId: string; task: Task }[],
): PromiseLike<unknown> {
  return runPrepared(tx, 'select graphile_worker.remove_job(k) from unnest($1::text[]) as k', [
    jobs.map((j) => jobKey(j.sagaId, j.task)),
  ]);
}
