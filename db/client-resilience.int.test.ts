import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { connect } from '@/db/client';
import { useSagaTestDatabase } from '@/test/saga-harness';

/**
 * Regression (found by `npm run chaos`, pg_terminate_backend during a task's transaction):
 * postgres.js 3.4.9 wrote to a socket that had just closed from a setImmediate callback
 * (`TypeError: Cannot read properties of null (reading 'write')`), uncatchable, which killed
 * the process; and left the connection unable to write again. Patched on install by
 * scripts/lib/patch-dependencies.mjs (porsager/postgres#1208).
 *
 * A child process runs transactions whose backend is terminated half-way, as the drill does;
 * it must survive, see catchable errors, and keep a working pool.
 */
const ctx = useSagaTestDatabase();

const CHILD = `
// Other uncaught errors are counted, not fatal here: this test pins the nextWrite defect.
const uncaught = [];
process.on('uncaughtException', (e) => uncaught.push(String(e && e.message)));
import { connect } from '@/db/client';
import { sql } from 'drizzle-orm';
const { db, sql: client } = connect(process.env.URL, 4);
const admin = connect(process.env.URL, 1);
let rejected = 0;
for (let i = 0; i < 25; i++) {
  try {
    await db.transaction(async (tx) => {
      const [row] = await tx.execute(sql\`select pg_backend_pid() as pid\`);
      await admin.db.execute(sql\`select pg_terminate_backend(\${row.pid})\`);
      await new Promise((r) => setTimeout(r, 20 + (i % 5) * 10));
      await tx.execute(sql\`select 1\`);
    });
  } catch {
    rejected += 1;
  }
  const answered = await Promise.race([
    db.execute(sql\`select 1 as ok\`).then(() => true, () => true),
    new Promise((r) => setTimeout(() => r(false), 5000)),
  ]);
  if (!answered) { console.log('HANG after iteration ' + i); process.exit(3); }
}
const [ok] = await db.execute(sql\`select 42 as n\`);
console.log(JSON.stringify({ rejected, n: ok.n, uncaught }));
await client.end({ timeout: 2 });
await admin.sql.end({ timeout: 2 });
`;

describe('database client survives connections killed mid-transaction', () => {
  test(
    'no uncatchable crash, no poisoned connection, the pool keeps working',
    { timeout: 60_000 },
    async () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', CHILD],
        {
          env: { ...process.env, URL: ctx.url },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) =>
        child.on('exit', (c) => resolve(c)),
      );
      assert.doesNotMatch(
        err,
        /reading 'write'/,
        'the nextWrite crash is back: is scripts/lib/patch-dependencies.mjs applied?',
      );
      assert.equal(code, 0, `child exited ${code}\n${out}\n${err.slice(-2000)}`);
      const result = JSON.parse(out.trim().split('\n').pop()!) as {
        rejected: number;
        n: number;
        uncaught: string[];
      };
      assert.equal(result.n, 42);
      assert.deepEqual(
        result.uncaught.filter((m) => m.includes("reading 'write'")),
        [],
      );
      assert.ok(
        result.rejected >= 20,
        `most transactions saw their connection die (${result.rejected}/25)`,
      );
    },
  );

  test('a transaction whose connection died sends nothing into the next transaction on that connection', async () => {
    // One connection: the transaction after the killed one gets the same connection object,
    // reconnected, while the killed transaction's callback is still running.
    const pool = connect(ctx.url, 1);
    const admin = connect(ctx.url, 1);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      await pool.db.execute(sql`create table atomicity_probe (n int)`);
      let staleStep: Promise<unknown> | undefined;
      const killed = pool.db.transaction(async (tx) => {
        const [row] = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
        await admin.db.execute(sql`select pg_terminate_backend(${row!.pid})`);
        await sleep(150);
        // Still running after its transaction was torn down: this must not reach anyone.
        staleStep = tx.execute(sql`select 1`);
        await staleStep;
      });
      await assert.rejects(killed);

      const aborted = new Error('the second transaction aborts');
      await assert.rejects(
        pool.db.transaction(async (tx) => {
          await tx.execute(sql`insert into atomicity_probe values (1)`);
          await sleep(400); // the killed transaction's callback sends its next statement now
          await tx.execute(sql`insert into atomicity_probe values (2)`);
          throw aborted;
        }),
        aborted,
      );
      await assert.rejects(
        staleStep!,
        'the stale statement failed instead of running in the other session',
      );
      const [left] = await pool.db.execute<{ n: number }>(
        sql`select count(*)::int as n from atomicity_probe`,
      );
      assert.equal(
        left!.n,
        0,
        'the aborted transaction left nothing: no stray commit or rollback ended it half-way',
      );
    } finally {
      await Promise.all([pool.sql.end({ timeout: 2 }), admin.sql.end({ timeout: 2 })]);
    }
  });
});
