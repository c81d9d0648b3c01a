import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { jobKey, type Task } from '@/lib/saga/model';
import { createOrder } from '@/server/commands/create-order';
import { orderInput, useSagaTestDatabase } from '@/test/saga-harness';
import { enqueueTask, enqueueTasks, JOB_MAX_ATTEMPTS, type NextJob } from './graphile-jobs';
import { loadTask } from './load-task';

const ctx = useSagaTestDatabase();

/**
 * graphile-jobs.ts writes graphile-worker's job table itself instead of calling add_job. Each
 * case here does the same thing both ways, once through `graphile_worker.add_job` (replace
 * mode, the mode RxSaga relies on) and once through enqueueTask, on two keys, and compares
 * the rows: an upgrade of graphile-worker that changes what add_job writes fails here.
 */
type JobRow = {
  key: string | null;
  task: string;
  job_queue_id: string | null;
  payload: unknown;
  priority: number;
  run_at: string;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  locked_at: string | null;
  locked_by: string | null;
  revision: number;
  flags: unknown;
  is_available: boolean;
};

/** Every column of the key's rows that a job's meaning depends on (ids and times aside). */
async function rowsOf(key: string): Promise<JobRow[]> {
  return ctx.db.execute<JobRow>(sql`
    select j.key, t.identifier as task, j.job_queue_id::text, j.payload, j.priority,
      j.run_at::text, j.attempts, j.max_attempts, j.last_error, j.locked_at::text, j.locked_by,
      j.revision, j.flags, j.is_available
    from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
    where j.key = ${key} or j.payload->>'sagaId' = ${key.split(':')[0]!}
    order by j.id`);
}

/** The two keys' rows, with what necessarily differs (the key, the saga id) made equal. */
const comparable = (rows: JobRow[], sagaId: string) =>
  rows.map((r) => ({
    ...r,
    key: r.key?.replace(sagaId, 'SAGA') ?? null,
    payload: JSON.parse(JSON.stringify(r.payload).replace(sagaId, 'SAGA')),
  }));

const RUN_AT = new Date('2031-02-03T04:05:06.789Z');

async function viaAddJob(job: NextJob, priority = 0): Promise<void> {
  await ctx.db.execute(sql`select graphile_worker.add_job(
    ${job.task}::text, ${JSON.stringify({ sagaId: job.sagaId })}::json,
    run_at => ${job.runAt?.toISOString() ?? null}::timestamptz,
    max_attempts => ${JOB_MAX_ATTEMPTS}::int,
    job_key => ${jobKey(job.sagaId, job.task)}::text,
    priority => ${priority}::int)`);
}

async function viaStore(job: NextJob): Promise<void> {
  await ctx.db.transaction((tx) => enqueueTask(tx, job));
}

/** Runs `steps` for a saga through add_job and for another through the store; both rows. */
async function both(
  steps: (
    enqueue: (job: Omit<NextJob, 'sagaId' | 'wake'>) => Promise<void>,
    sagaId: string,
  ) => Promise<void>,
) {
  const results: ReturnType<typeof comparable>[] = [];
  for (const write of [viaAddJob, viaStore]) {
    const sagaId = randomUUID();
    await steps((j) => write({ ...j, sagaId, wake: true }), sagaId);
    results.push(comparable(await rowsOf(jobKey(sagaId, 'create-prescription')), sagaId));
  }
  return { addJob: results[0]!, store: results[1]! };
}

const task: Task = 'create-prescription';

describe('graphile-jobs.ts against graphile_worker.add_job', () => {
  test('a new job: same task, queue, payload, run_at, attempts, max_attempts, priority, flags', async () => {
    const { addJob, store } = await both((enqueue) => enqueue({ task, runAt: RUN_AT }));
    assert.equal(addJob.length, 1);
    assert.deepEqual(store, addJob);
    assert.equal(store[0]!.job_queue_id, null, 'no named queue');
    assert.equal(store[0]!.max_attempts, JOB_MAX_ATTEMPTS);
  });

  test('run_at null is now, as with add_job', async () => {
    const { addJob, store } = await both((enqueue) => enqueue({ task, runAt: null }));
    const age = (r: JobRow) => Date.now() - new Date(r.run_at).getTime();
    for (const rows of [addJob, store]) {
      assert.equal(rows.length, 1);
      assert.ok(age(rows[0]!) >= 0 && age(rows[0]!) < 60_000, `run_at ${rows[0]!.run_at} is now`);
    }
    const strip = (rows: JobRow[]) => rows.map(({ run_at: _r, ...rest }) => rest);
    assert.deepEqual(strip(store), strip(addJob));
  });

  test('a queued job of the same key is replaced: new run_at, fresh attempts, revision + 1', async () => {
    const { addJob, store } = await both(async (enqueue, sagaId) => {
      await enqueue({ task, runAt: null });
      // A failed attempt graphile-worker recorded on it.
      await ctx.db.execute(sql`update graphile_worker._private_jobs
        set attempts = 2, last_error = 'boom' where key = ${jobKey(sagaId, task)}`);
      await enqueue({ task, runAt: RUN_AT });
    });
    assert.equal(addJob.length, 1, 'replaced, not doubled');
    assert.equal(addJob[0]!.revision, 1);
    assert.equal(addJob[0]!.attempts, 0);
    assert.deepEqual(store, addJob);
  });

  test('enqueueTasks (a bulk batch, with a priority) writes what add_job does with that priority', async () => {
    const results: ReturnType<typeof comparable>[] = [];
    for (const via of ['add_job', 'store'] as const) {
      const sagaId = randomUUID();
      const enqueue = (runAt: Date | null) =>
        via === 'add_job'
          ? viaAddJob({ sagaId, task, runAt, wake: true }, 10)
          : ctx.db.transaction(async (tx) => {
              const [row] = await enqueueTasks(tx, [{ sagaId, task, runAt }], 10);
              assert.deepEqual(row?.keys, [jobKey(sagaId, task)]);
            });
      await enqueue(null);
      await ctx.db.execute(sql`update graphile_worker._private_jobs
        set attempts = 2, last_error = 'boom', priority = 0 where key = ${jobKey(sagaId, task)}`);
      await enqueue(RUN_AT); // replaces it: new run_at, fresh attempts, the priority again
      results.push(comparable(await rowsOf(jobKey(sagaId, task)), sagaId));
    }
    const [addJob, store] = results;
    assert.equal(addJob!.length, 1);
    assert.equal(addJob![0]!.priority, 10);
    assert.deepEqual(store, addJob);
  });

  test('a job a worker holds gives its key up and is not retried; a new one is queued', async () => {
    const { addJob, store } = await both(async (enqueue, sagaId) => {
      await enqueue({ task, runAt: new Date('2030-06-01T00:00:00Z') });
      await ctx.db.execute(sql`update graphile_worker._private_jobs
        set locked_at = '2030-01-01T00:00:00Z', locked_by = 'test-worker', attempts = 1
        where key = ${jobKey(sagaId, task)}`);
      await enqueue({ task, runAt: RUN_AT });
    });
    assert.equal(addJob.length, 2);
    assert.equal(addJob[0]!.key, null);
    assert.equal(addJob[0]!.attempts, addJob[0]!.max_attempts);
    assert.deepEqual(store, addJob);
  });

  test('taking a job inline takes only a due job no worker holds, once', async () => {
    const { sagaId } = await createOrder(ctx.db, orderInput({ patientId: 'PAT-TAKE-1' }));
    await viaStore({ sagaId, task, runAt: RUN_AT, wake: false });
    const take = () => ctx.db.transaction((tx) => loadTask(tx, sagaId, task, { kind: 'inline' }));
    assert.equal((await take()).jobId, null, 'not due yet: not taken');
    await viaStore({ sagaId, task, runAt: null, wake: false });
    await ctx.db.execute(sql`update graphile_worker._private_jobs
      set locked_at = now(), locked_by = 'test-worker' where key = ${jobKey(sagaId, task)}`);
    assert.equal((await take()).jobId, null, 'held by a worker: left to it');
    await ctx.db.execute(sql`update graphile_worker._private_jobs
      set locked_at = null, locked_by = null where key = ${jobKey(sagaId, task)}`);
    const taken = await take();
    assert.ok(taken.jobId, 'due and free: taken');
    assert.equal(taken.stored?.saga.sagaId, sagaId);
    assert.equal(taken.order?.sagaId, sagaId);
    assert.equal((await rowsOf(jobKey(sagaId, task))).length, 0, 'and deleted with the commit');
  });

  test('enqueueTask wakes idle workers as add_job does (jobs:insert), unless told not to', async () => {
    const postgres = (await import('postgres')).default;
    const listener = postgres(ctx.url, { max: 1, onnotice: () => {} });
    const heard: string[] = [];
    await listener.listen('jobs:insert', (payload) => heard.push(payload));
    try {
      await viaStore({ sagaId: randomUUID(), task, runAt: null, wake: false });
      await viaStore({ sagaId: randomUUID(), task, runAt: null, wake: true });
      await viaAddJob({ sagaId: randomUUID(), task, runAt: null, wake: true });
      for (let i = 0; i < 100 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200)); // room for a wrong third one to arrive
      assert.equal(
        heard.length,
        2,
        `one notification each from the store's wake and add_job: ${heard.join(' | ')}`,
      );
      const shape = (p: string) => Object.keys(JSON.parse(p) as object).sort();
      assert.deepEqual(shape(heard[0]!), shape(heard[1]!));
    } finally {
      await listener.end({ timeout: 5 });
    }
  });
});
