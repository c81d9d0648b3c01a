import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { inventoryItems } from '@/db/schema';
import { startWorker } from '@/jobs/worker';
import { createOrder } from '@/server/commands/create-order';
import {
  orderInput,
  reservationMismatches,
  setStock,
  streamsWithGaps,
  useSagaTestDatabase,
  waitForSettled,
} from '@/test/saga-harness';

const ctx = useSagaTestDatabase({ WORKER_CONCURRENCY: '6' });

describe('stock contention', () => {
  test('100 concurrent orders for 40 units: exactly 40 complete and nothing is oversold', async () => {
    await setStock(ctx.db, 'SALB-100', 40);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        createOrder(
          ctx.db,
          orderInput({ patientId: `PAT-${i}`, medications: [{ sku: 'SALB-100', quantity: 1 }] }),
        ),
      ),
    );
    assert.equal(new Set(results.map((r) => r.sagaId)).size, 100);

    // Two worker pools compete for the jobs, as two `npm run worker` processes would.
    const workers = await Promise.all([startWorker(), startWorker()]);
    let lowestAvailable = Infinity;
    try {
      const sample = setInterval(() => {
        void ctx.db
          .select({ onHand: inventoryItems.onHand, reserved: inventoryItems.reserved })
          .from(inventoryItems)
          .where(eq(inventoryItems.sku, 'SALB-100'))
          .then(
            ([row]) => (lowestAvailable = Math.min(lowestAvailable, row!.onHand - row!.reserved)),
          );
      }, 20);
      await waitForSettled(ctx.db, 60_000);
      clearInterval(sample);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }

    const states = await ctx.db.execute<{
      state: string;
      failed_step: string | null;
      n: number;
    }>(sql`
      select state, failed_step, count(*)::int as n from order_fulfillment_sagas group by 1, 2 order by 1`);
    assert.deepEqual(
      states.map((s) => ({ ...s })),
      [
        { state: 'CANCELLED', failed_step: 'reserve-inventory', n: 60 },
        { state: 'COMPLETED', failed_step: null, n: 40 },
      ],
    );
    const [stock] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(eq(inventoryItems.sku, 'SALB-100'));
    assert.equal(stock!.reserved, 40);
    assert.equal(stock!.onHand, 40);
    assert.ok(lowestAvailable >= 0, `available stock went to ${lowestAvailable}`);
    assert.deepEqual(await reservationMismatches(ctx.db), []);
    assert.deepEqual(await streamsWithGaps(ctx.db), []);
  });
});
