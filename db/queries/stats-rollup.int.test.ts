import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import postgres from 'postgres';
import { getStats, type Stats } from '@/db/queries/stats';
import { useSagaTestDatabase } from '@/test/saga-harness';
import { insertCompensationEvent, insertSagaRows, type SagaRowSpec } from '@/test/saga-rows';
import { assertStatsRollupsMatch } from '@/test/stats-rollup';

const ctx = useSagaTestDatabase();
const DAY = 86_400;

/** Within the histogram's resolution: one bucket is ~9 % wide. */
function assertClose(actual: number | null, expected: number | null, what: string) {
  if (expected === null || actual === null) return assert.equal(actual, expected, what);
  assert.ok(
    Math.abs(actual - expected) <= 0.1 * Math.abs(expected) + 0.001,
    `${what}: ${actual} vs ${expected}`,
  );
}

function assertSameStats(rolled: Stats, exact: Stats) {
  const { p50DurationSeconds, p95DurationSeconds, avgDurationSeconds, series, ...counts } = rolled;
  const {
    p50DurationSeconds: p50,
    p95DurationSeconds: p95,
    avgDurationSeconds: avg,
    series: exactSeries,
    ...exactCounts
  } = exact;
  assert.deepEqual(counts, exactCounts);
  assertClose(avgDurationSeconds, avg, 'avg');
  assertClose(p50DurationSeconds, p50, 'p50');
  assertClose(p95DurationSeconds, p95, 'p95');
  assert.deepEqual(
    series.map(({ p50DurationSeconds: _a, p95DurationSeconds: _b, ...b }) => b),
    exactSeries.map(({ p50DurationSeconds: _a, p95DurationSeconds: _b, ...b }) => b),
  );
  series.forEach((b, i) => {
    assertClose(b.p50DurationSeconds, exactSeries[i]!.p50DurationSeconds, `series ${b.start} p50`);
    assertClose(b.p95DurationSeconds, exactSeries[i]!.p95DurationSeconds, `series ${b.start} p95`);
  });
}

describe('stats rollups', () => {
  test('long windows read from the rollups give the exact counts, and percentiles to histogram resolution', async () => {
    const specs: SagaRowSpec[] = [];
    for (let i = 0; i < 300; i++) {
      const startedAgo = 60 + ((i * 7919) % (20 * DAY));
      const kind = i % 10;
      if (kind === 9)
        specs.push({ state: 'PENDING_SHIPMENT', startedAgo, needsIntervention: i % 20 === 9 });
      else if (kind >= 7)
        specs.push({
          state: 'CANCELLED',
          startedAgo,
          durationSeconds: 0.2 + (i % 13),
          compensations: ['cancel-order'],
        });
      else
        specs.push({
          state: 'COMPLETED',
          startedAgo,
          durationSeconds: 0.05 + ((i * 31) % 97) / 10,
        });
    }
    // Either side of the 24h and 7d edges, in the hour the rollup leaves to the saga table.
    specs.push({ state: 'COMPLETED', startedAgo: DAY - 30, durationSeconds: 2 });
    specs.push({ state: 'CANCELLED', startedAgo: DAY + 30, durationSeconds: 2 });
    specs.push({ state: 'COMPLETED', startedAgo: 7 * DAY - 30, durationSeconds: 3 });
    specs.push({ state: 'COMPLETED', startedAgo: 7 * DAY + 30, durationSeconds: 3 });
    specs.push({
      state: 'CANCELLED',
      startedAgo: 7 * DAY - 20,
      durationSeconds: 1,
      needsIntervention: true,
    });
    await insertSagaRows(ctx.db, specs);
    for (const ago of [60, DAY - 10, DAY + 10, 3 * DAY, 7 * DAY - 10, 7 * DAY + 10, 12 * DAY]) {
      await insertCompensationEvent(ctx.db, 'order.cancelled', ago);
      await insertCompensationEvent(ctx.db, 'order.inventory_released', ago + 5);
    }
    await assertStatsRollupsMatch(ctx.db);

    for (const window of ['24h', '7d', 'all'] as const) {
      // One transaction: both read the same now().
      const [exact, rolled] = await ctx.db.transaction(async (tx) => [
        await getStats(tx, window),
        await getStats(tx, window, { rollupMinFinished: 1 }),
      ]);
      assert.ok(exact.total > 0);
      assertSameStats(rolled, exact);
    }
  });

  test('a completion does not wait for another open transaction completing a saga of the same hour and bucket', async () => {
    // Two connections whose backends write different shards (pid % 8, migration 0016).
    const monitor = postgres(ctx.url, { max: 1, onnotice: () => {} });
    const clients: postgres.Sql[] = [monitor];
    const pids: number[] = [];
    const writers: postgres.Sql[] = [];
    try {
      while (pids.length < 2) {
        const c = postgres(ctx.url, { max: 1, onnotice: () => {} });
        clients.push(c);
        const [row] = await c<{ pid: number }[]>`select pg_backend_pid() as pid`;
        if (pids.every((p) => p % 8 !== row!.pid % 8)) {
          pids.push(row!.pid);
          writers.push(c);
        }
      }
      const [a, b] = writers;
      const finished = (tx: postgres.TransactionSql) => {
        const id = randomUUID();
        return tx`insert into order_fulfillment_sagas (saga_id, order_id, patient_id, state,
            completed_steps, compensations_done, started_at, updated_at, completed_at, version,
            order_version, last_position)
          values (${id}, ${`ORD-${id}`}, 'PAT-SHARD', 'COMPLETED', '{create-order}', '{}',
            '2026-01-01T10:00:00Z', '2026-01-01T10:00:02Z', '2026-01-01T10:00:02Z', 1, 1, 0)`;
      };
      let releaseA!: () => void;
      const aHolds = new Promise<void>((resolve) => (releaseA = resolve));
      let aInserted!: () => void;
      const aReady = new Promise<void>((resolve) => (aInserted = resolve));
      const txA = a!
        .begin(async (tx) => {
          await finished(tx);
          aInserted();
          await aHolds;
          throw new Error('rollback');
        })
        .catch(() => {});
      await aReady;
      let bDone = false;
      const txB = b!
        .begin(async (tx) => {
          await finished(tx);
          bDone = true;
          throw new Error('rollback');
        })
        .catch(() => {});
      // Until B's insert returns: it must never be seen waiting for a lock (A's rollup row).
      const pidB = pids[1]!;
      let waited = false;
      while (!bDone && !waited) {
        const [row] = await monitor<{ lock: boolean }[]>`
          select coalesce(wait_event_type = 'Lock', false) as lock from pg_stat_activity where pid = ${pidB}`;
        waited = row?.lock ?? false;
      }
      releaseA();
      await Promise.all([txA, txB]);
      assert.equal(waited, false, 'the second completion waited for the first one');
    } finally {
      await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
    }
  });
});
