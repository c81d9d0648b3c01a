import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import postgres from 'postgres';
import { useApiServer, type ApiResponse } from '@/test/api-server';
import { orderInput, waitFor } from '@/test/saga-harness';

/**
 * Overload (docs/chaos.md, "The retry storm"): the web's database connections are all taken
 * and requests keep coming. A request whose client has gone must not be worked on later, and
 * one that cannot get a connection within RXSAGA_DB_WAIT_MS is answered 503 with Retry-After,
 * not queued without end. The connections are held for real: a transaction of the test's own
 * locks the catalog, so every order's transaction waits on that lock with its connection.
 */

const WAIT_MS = 3000;
const api = useApiServer({ worker: false, env: { RXSAGA_DB_WAIT_MS: String(WAIT_MS) } });

let admin: postgres.Sql | undefined;
after(async () => {
  await admin?.end({ timeout: 5 });
});

/** Holds ACCESS EXCLUSIVE on the catalog until `release()`: orders wait on it mid-transaction. */
async function lockCatalog(): Promise<{ release: () => Promise<void> }> {
  admin ??= postgres(process.env.DATABASE_URL!, { max: 3, onnotice: () => {} });
  const sql = await admin.reserve();
  await sql`begin`;
  await sql`lock table medications in access exclusive mode`;
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await sql`commit`;
      sql.release();
    },
  };
}

/** Order transactions of the web waiting on the catalog's lock, each holding a connection. */
async function waitersOnCatalog(): Promise<number> {
  const [row] = await admin!<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock'`;
  return row!.n;
}

async function ordersLike(prefix: string): Promise<number> {
  const [row] = await admin!<{ n: number }[]>`
    select count(*)::int as n from orders where order_id like ${`${prefix}%`}`;
  return row!.n;
}

const postOrder = (orderId: string, signal?: AbortSignal) =>
  api.request('/api/orders', {
    method: 'POST',
    body: orderInput({ orderId }),
    headers: { 'idempotency-key': `key-${orderId}` },
    signal,
  });

/** The web's pool size (db/client.ts WEB_POOL_MAX): that many requests hold a connection. */
const POOL = 10;

describe('overload: every database connection of the web is taken', () => {
  test('a flood of requests whose clients give up leaves nothing behind: none of them is stored, and the next order goes through', async () => {
    const lock = await lockCatalog();
    const flood = Array.from({ length: 4 * POOL }, (_, i) => {
      const abort = new AbortController();
      const answer = postOrder(`ORD-flood-${i}`, abort.signal).then(
        (r): ApiResponse | null => r,
        () => null,
      );
      return { abort, answer };
    });
    try {
      await waitFor(async () => (await waitersOnCatalog()) >= POOL, 30_000, 'the pool to fill');
      // The rest of the flood reaches the server and waits behind the pool; then every client
      // gives up, while the connections are still held.
      await new Promise((r) => setTimeout(r, 500));
      for (const f of flood) f.abort.abort();
      const answers = await Promise.all(flood.map((f) => f.answer));
      for (const a of answers) if (a) assert.notEqual(a.status, 500, JSON.stringify(a.body));
    } finally {
      await lock.release();
    }

    const next = await postOrder('ORD-after-flood');
    assert.equal(next.status, 201, JSON.stringify(next.body));
    // The transactions that held connections when their clients left roll back once the lock
    // is gone; the requests that waited for a connection never started one.
    await waitFor(async () => (await waitersOnCatalog()) === 0, 30_000, 'the waiters to finish');
    assert.equal(await ordersLike('ORD-flood-'), 0, 'orders stored for clients that had gone');
    assert.equal(await ordersLike('ORD-after-flood'), 1);
  });

  test(`a request that waits longer than RXSAGA_DB_WAIT_MS (${WAIT_MS} ms) for a connection is answered 503 JSON with Retry-After, never 500; the ones holding connections finish`, async () => {
    const lock = await lockCatalog();
    // If the late request is queued instead (the old behaviour), the lock is let go after a
    // while so the test ends and fails on the status rather than hanging.
    const watchdog = setTimeout(() => void lock.release(), 10 * WAIT_MS);
    try {
      const holders = Array.from({ length: POOL }, (_, i) => postOrder(`ORD-holder-${i}`));
      await waitFor(async () => (await waitersOnCatalog()) >= POOL, 30_000, 'the pool to fill');
      const late = await postOrder('ORD-late');
      assert.equal(late.status, 503, JSON.stringify(late.body));
      assert.match(late.headers.get('content-type') ?? '', /application\/json/);
      assert.match(late.body.error, /busy.*nothing was stored/);
      assert.equal(late.headers.get('retry-after'), '2');
      assert.equal(await ordersLike('ORD-late'), 0);

      await lock.release();
      const held = await Promise.all(holders);
      assert.deepEqual(
        held.map((r) => r.status),
        held.map(() => 201),
      );
    } finally {
      clearTimeout(watchdog);
      await lock.release();
    }
    // Nothing was stored for the refused request; it can simply try again.
    const again = await postOrder('ORD-late');
    assert.equal(again.status, 201, JSON.stringify(again.body));
  });
});
