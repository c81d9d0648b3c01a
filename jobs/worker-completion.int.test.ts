import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Logger, run, type TaskList, type WorkerEvents } from 'graphile-worker';
import postgres from 'postgres';
import { workerPreset } from '@/jobs/worker';
import { createTestDatabase, type TestDatabase } from '@/test/db';

/**
 * A connection lost while graphile-worker records a job's completion must not end the worker
 * pool (graphile/worker#636, patched by jobs/graphile-worker-patch.mjs). The chaos drill found
 * it: a pg_terminate_backend at that moment stopped the pool, and the worker process exited.
 * Here the database itself ends the completing connection, once: a trigger on graphile-worker's
 * job table terminates its own backend when the job is deleted (57P01, what a
 * pg_terminate_backend or a server restart sends). Unpatched, the pool reports a fatal error
 * and shuts down with the job still in the table. The same for the record of a task that
 * threw (failJob): unbatched, graphile-worker does not await it, and the lost connection was an
 * unhandled rejection that ended the process.
 */

let db: TestDatabase;
let sql: postgres.Sql;

before(async () => {
  db = await createTestDatabase();
  sql = postgres(db.url, { max: 1, onnotice: () => {} });
  await sql.unsafe(`
    create sequence completion_cuts;
    create function cut_completing_connection() returns trigger language plpgsql as $$
    begin
      if old.payload->>'cut' = 'yes' and nextval('completion_cuts') = 1 then
        perform pg_terminate_backend(pg_backend_pid());
      end if;
      return old;
    end $$;
    create trigger cut_completing_connection before delete on graphile_worker._private_jobs
      for each row execute function cut_completing_connection();
    create sequence failure_cuts;
    create function cut_failing_connection() returns trigger language plpgsql as $$
    begin
      if old.payload->>'cut' = 'fail' and new.last_error is distinct from old.last_error
         and nextval('failure_cuts') = 1 then
        perform pg_terminate_backend(pg_backend_pid());
      end if;
      return new;
    end $$;
    create trigger cut_failing_connection before update on graphile_worker._private_jobs
      for each row execute function cut_failing_connection();`);
});

after(async () => {
  await sql?.end({ timeout: 5 });
  await db?.drop();
});

/** A pool as jobs/worker.ts runs it (its preset), and the fatal errors it reports. */
async function startPool(taskList: TaskList) {
  const events: WorkerEvents = new EventEmitter();
  const fatal: string[] = [];
  events.on('pool:fatalError', ({ action, error }) => fatal.push(`${action}: ${String(error)}`));
  const runner = await run({
    connectionString: db.url,
    concurrency: 2,
    taskList,
    noHandleSignals: true,
    pollInterval: 200,
    logger: new Logger(() => () => {}),
    events,
    preset: workerPreset(2),
  });
  return { runner, fatal };
}

describe('worker pool and a lost connection', () => {
  test('the record of a failed task whose connection is terminated is retried; the pool goes on', async () => {
    let ran = 0;
    const { runner, fatal } = await startPool({
      'rxsaga-test-fails': async () => {
        ran += 1;
        throw new Error('the task fails once');
      },
    });
    try {
      const job = await runner.addJob('rxsaga-test-fails', { cut: 'fail' }, { maxAttempts: 2 });
      let row: { attempts: number; last_error: string | null; locked: boolean } | undefined;
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        [row] = await sql<{ attempts: number; last_error: string | null; locked: boolean }[]>`
          select attempts, last_error, locked_by is not null as locked
          from graphile_worker._private_jobs where id = ${job.id}`;
        if ((row?.last_error && !row.locked) || fatal.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const [cuts] = await sql<{ n: number }[]>`select last_value::int as n from failure_cuts`;
      assert.ok(cuts!.n >= 1, 'the trigger ended the connection recording the failure');
      assert.deepEqual(fatal, []);
      assert.equal(row?.last_error, 'the task fails once', 'the failure was recorded');
      assert.equal(row?.locked, false, 'and the job handed back for its retry');
      assert.equal(ran, 1);
    } finally {
      await runner.stop().catch(() => {});
      // Its retry is not this test's business, nor the next one's.
      await sql`delete from graphile_worker._private_jobs where payload->>'cut' = 'fail'`;
    }
  });

  test('a completion whose connection is terminated is retried; the pool goes on', async () => {
    let ran = 0;
    const { runner, fatal } = await startPool({
      'rxsaga-test-noop': async () => void (ran += 1),
    });
    let settled = false;
    void runner.promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    try {
      await runner.addJob('rxsaga-test-noop', { cut: 'yes' });
      await runner.addJob('rxsaga-test-noop', { cut: 'no' });
      let left = 2;
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        const [row] = await sql<{ left: number }[]>`
          select count(*)::int as left from graphile_worker._private_jobs`;
        left = row!.left;
        if (left === 0 || fatal.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const [cuts] = await sql<{ n: number }[]>`select last_value::int as n from completion_cuts`;
      assert.ok(cuts!.n >= 1, 'the trigger ended a completing connection');
      assert.deepEqual(fatal, [], 'the pool took the lost connection as fatal');
      assert.equal(left, 0, 'both jobs completed');
      assert.equal(ran, 2);
      assert.equal(settled, false, 'the pool is still running');
      // And it still takes new jobs.
      await runner.addJob('rxsaga-test-noop', { cut: 'no' });
      for (const deadline = Date.now() + 30_000; ran < 3 && Date.now() < deadline;)
        await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(ran, 3);
    } finally {
      await runner.stop().catch(() => {});
    }
  });
});
