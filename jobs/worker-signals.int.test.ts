import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { useSagaTestDatabase, waitFor } from '@/test/saga-harness';

/**
 * Regression (found by `npm run chaos`): a worker takes jobs as soon as its runner starts, but
 * handled SIGTERM only after its first sweep. A SIGTERM in between (a supervisor stopping a
 * worker that had just started) killed it outright, mid-task, instead of a graceful stop.
 */
const ctx = useSagaTestDatabase();

describe('worker signals', () => {
  test(
    'SIGTERM during the first sweep is a graceful stop (exit 0), not a kill',
    { timeout: 60_000 },
    async () => {
      // A stale heartbeat row held by another transaction keeps the new worker's first sweep
      // (it deletes stale rows) waiting, after it has recorded its own heartbeat.
      await ctx.db.execute(sql`
      insert into worker_heartbeats (pool_id, worker_ids, hostname, pid, started_at, last_seen_at)
      values ('pool-stale', '{pool-stale}', 'test', 1, now() - interval '1 hour', now() - interval '1 hour')`);
      const holder = postgres(ctx.url, { max: 1, onnotice: () => {} });
      const release = await new Promise<() => void>((resolveRelease) => {
        void holder.begin(async (tx) => {
          await tx`select 1 from worker_heartbeats where pool_id = 'pool-stale' for update`;
          await new Promise<void>((done) => resolveRelease(done));
        });
      });
      const worker = spawn(process.execPath, ['--import', 'tsx', 'jobs/worker.ts'], {
        env: {
          ...process.env,
          DATABASE_URL: ctx.url,
          RXSAGA_WORKER_DEAD_SECONDS: '2',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        worker.on('exit', (c, s) => resolve([c, s])),
      );
      try {
        await waitFor(
          async () => {
            const rows = await ctx.db.execute(
              sql`select 1 from worker_heartbeats where pid = ${worker.pid!}`,
            );
            return rows.length > 0;
          },
          30_000,
          'the worker to record its heartbeat',
        );
        worker.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        release();
        await holder.end({ timeout: 5 });
      }
      const [code, signal] = await exited;
      assert.equal(signal, null, 'killed by the signal instead of stopping gracefully');
      assert.equal(code, 0);
    },
  );
});
