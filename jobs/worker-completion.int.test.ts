import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Logger, run, type WorkerEvents } from 'graphile-worker';
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
 * and shuts down with the job still in the table.
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
      for each row execute function cut_completing_connection();`);
});

after(async () => {
  await sql?.end({ timeout: 5 });
  await db?.drop();
});

describe('worker pool and a lost connection', () => {
  test('a completion whose connection is terminated is retried; the pool goes on', async () => {
    const events: WorkerEvents = new EventEmitter();
    const fatal: string[] = [];
    events.on('pool:fatalError', ({ action, error }) => fatal.push(`${action}: ${String(error)}`));
    let ran = 0;
    const runner = await run({
      connectionString: db.url,
      concurrency: 2,
      taskList: { 'rxsaga-test-noop': async () => void (ran += 1) },
      noHandleSignals: true,
      pollInterval: 200,
      logger: new Logger(() => () => {}),
      events,
      preset: workerPreset(2),
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
