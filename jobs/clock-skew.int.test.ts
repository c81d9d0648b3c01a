import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { makeWorkerUtils } from 'graphile-worker';
import { createOrder } from '@/server/commands/create-order';
import { shiftClock } from '@/scripts/lib/clock-offset.mjs';
import {
  getSagaRow,
  orderInput,
  useSagaTestDatabase,
  waitForSettled,
  withPostalCode,
  withWorker,
} from '@/test/saga-harness';
import { flagStalledSagas } from './sweeper';

/**
 * A worker whose own clock is wrong decides exactly as the others do: every time comparison
 * uses the database's clock (db/clock.ts). This process's clock is shifted the way the chaos
 * drill's clock-skew fault shifts a worker's (scripts/lib/clock-offset.mjs); PostgreSQL keeps
 * the true time.
 */
const ctx = useSagaTestDatabase({ RXSAGA_MAX_ATTEMPTS: '3', RXSAGA_RETRY_BASE_MS: '200' });
const TEN_MINUTES = 10 * 60_000;

describe('a worker with a skewed clock', () => {
  after(() => shiftClock(0));

  test('10 min ahead: its retries run after their backoff by the database clock, dated right', async () => {
    shiftClock(TEN_MINUTES);
    const { sagaId } = await createOrder(ctx.db, withPostalCode('00503'));
    // With the process clock, each retry would be queued 10 minutes out and never run here.
    await withWorker(() => waitForSettled(ctx.db));
    assert.equal((await getSagaRow(ctx.db, sagaId)).state, 'COMPLETED');
    const retries = await ctx.db.execute<{ ahead_ms: number }>(sql`
      select extract(epoch from ((payload->>'retryAt')::timestamptz - date_trunc('milliseconds', recorded_at))) * 1000 as ahead_ms
      from events where type = 'order_fulfillment_saga.attempt_failed'
        and metadata->>'correlationId' = ${sagaId}`);
    assert.equal(retries.length, 2, 'the carrier answered 503 twice');
    // retryAt = the event's own stamp + backoff (200 ms, then 400 ms), both by the database
    // (a JS Date keeps milliseconds: the stamp is compared at that precision).
    assert.deepEqual(
      retries.map((r) => Math.round(Number(r.ahead_ms))),
      [200, 400],
    );
  });

  test('10 min behind: a saga stalled by the database clock is still flagged', async () => {
    shiftClock(-TEN_MINUTES);
    const { sagaId } = await createOrder(ctx.db, orderInput());
    // No job to move it on, and no progress for 10 s (by the database's clock).
    await ctx.db.execute(sql`delete from graphile_worker._private_jobs`);
    await ctx.db.execute(
      sql`update order_fulfillment_sagas set updated_at = now() - interval '10 seconds' where saga_id = ${sagaId}`,
    );
    const utils = await makeWorkerUtils({ connectionString: ctx.url });
    try {
      const options = {
        db: ctx.db,
        utils,
        poolId: 'pool-skewed',
        workerIds: () => [],
        deadAfterSeconds: 5,
      };
      assert.equal(
        await flagStalledSagas({ ...options, stallSeconds: 30 }),
        0,
        'not yet stalled for 30 s',
      );
      assert.equal(
        await flagStalledSagas({ ...options, stallSeconds: 5 }),
        1,
        'stalled for over 5 s',
      );
    } finally {
      await utils.release();
    }
    const saga = await getSagaRow(ctx.db, sagaId);
    assert.equal(saga.needsIntervention, true);
    assert.match(saga.interventionReason ?? '', /^stalled: no progress for over 5 s/);
  });
});
