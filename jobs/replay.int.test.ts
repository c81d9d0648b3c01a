import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { replayProjections } from '@/db/replay';
import { setFaultSetting } from '@/db/faults';
import { createOrder } from '@/server/commands/create-order';
import { cancelSaga } from '@/server/commands/operator-action';
import { assertStatsRollupsMatch } from '@/test/stats-rollup';
import {
  orderInput,
  useSagaTestDatabase,
  waitForSettled,
  withPostalCode,
  withWorker,
} from '@/test/saga-harness';

const ctx = useSagaTestDatabase();

/** Every projection as sorted JSON, so two snapshots compare exactly. */
async function snapshot() {
  const tables = [
    'order_fulfillment_sagas',
    'orders',
    'prescriptions',
    'inventory_reservations',
    'shipments',
  ];
  const out: Record<string, unknown> = {};
  for (const t of tables) {
    const rows = await ctx.db.execute(sql.raw(`select * from ${t} order by 1, 2`));
    out[t] = JSON.parse(JSON.stringify(rows));
  }
  out.inventory = JSON.parse(
    JSON.stringify(
      await ctx.db.execute(sql`select sku, on_hand, reserved from inventory_items order by sku`),
    ),
  );
  return out;
}

describe('replay', () => {
  test('rebuilding the projections from events reproduces them exactly', async () => {
    await setFaultSetting(ctx.db, {
      task: 'create-prescription',
      failureRate: 0,
      transientRate: 0.3,
      latencyMs: 0,
    });
    const inputs = [
      orderInput(),
      orderInput({ prescriberId: 'PR-REVOKED' }),
      orderInput({
        medications: [
          { sku: 'INSU-GLAR', quantity: 5 },
          { sku: 'CETI-10', quantity: 1 },
        ],
      }),
      withPostalCode('00000'),
      withPostalCode('00503'),
      withPostalCode('00504'),
      orderInput({ medications: [{ sku: 'IBU-400', quantity: 9 }] }),
    ];
    for (let i = 0; i < 3; i++) for (const input of inputs) await createOrder(ctx.db, input);
    await withWorker(() => waitForSettled(ctx.db));
    const [stuck] = await ctx.db.execute<{ saga_id: string }>(
      sql`select saga_id from order_fulfillment_sagas where needs_intervention limit 1`,
    );
    await cancelSaga(ctx.db, stuck!.saga_id, { reason: 'replay test' }, 'operator:test');
    await withWorker(() => waitForSettled(ctx.db));

    const live = await snapshot();
    // The stats rollups equal a recomputation from the sagas and events, live and after replay.
    const liveRollup = await assertStatsRollupsMatch(ctx.db);
    assert.ok(liveRollup.finished > 0 && liveRollup.signals > 0);
    // Damage the projections, so a replay that did nothing could not pass.
    await ctx.db.execute(
      sql`update order_fulfillment_sagas set state = 'PENDING_SHIPMENT', attempts = 9`,
    );
    await ctx.db.execute(sql`update inventory_items set reserved = 0`);
    await ctx.db.execute(sql`delete from shipments`);

    const progress: number[] = [];
    const result = await replayProjections(ctx.db, (p) => progress.push(p.events));
    assert.equal(result.sagas, 21);
    assert.equal(progress.at(-1), result.totalEvents);
    assert.deepEqual(await snapshot(), live);
    assert.deepEqual(await assertStatsRollupsMatch(ctx.db), liveRollup);
  });

  test('npm run replay rebuilds the projections of a database (DATABASE_URL)', async () => {
    const live = await snapshot();
    await ctx.db.execute(sql`truncate order_fulfillment_sagas`);
    const { stdout } = await promisify(execFile)('node', ['--import', 'tsx', 'scripts/replay.ts'], {
      env: { ...process.env, DATABASE_URL: ctx.url },
    });
    assert.match(stdout, /replayed \d+ events into 21 sagas/);
    assert.deepEqual(await snapshot(), live);
    assert.ok((await assertStatsRollupsMatch(ctx.db)).finished > 0);
  });
});
