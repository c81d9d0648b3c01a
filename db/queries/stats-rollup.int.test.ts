import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
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
});
