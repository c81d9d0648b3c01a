import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inspectDatabase } from '@/scripts/bench/database';
import { runSagaBench } from '@/scripts/bench/run';
import { logger } from '@/server/logger';
import { createTestDatabase, type TestDatabase } from '@/test/db';

/**
 * Smoke test of `npm run bench`: a few hundred sagas through the real harness (createOrder,
 * worker processes, the floor, the failure mix), asserting the run was correct and the JSON
 * has its fields. Never timings: this machine is shared and they mean nothing here.
 */
let database: TestDatabase;
let admin: Awaited<ReturnType<typeof inspectDatabase>>['admin'] | undefined;

before(async () => {
  logger.level = process.env.LOG_LEVEL ?? 'silent';
  database = await createTestDatabase();
});
after(async () => {
  await admin?.end({ timeout: 5 });
  await database?.drop();
});

test(
  'the bench harness drains sagas correctly and reports every figure',
  { timeout: 240_000 },
  async () => {
    const inspected = await inspectDatabase(database.url);
    admin = inspected.admin;
    const result = await runSagaBench({
      url: database.url,
      ...inspected,
      sagas: 100,
      workerCounts: [1, 2],
      concurrency: 4,
      mix: true,
      floor: true,
      drain: true,
      rate: 25,
      rateSeconds: 2,
      floorConcurrency: 4,
      // The web app needs a production build and a few seconds per run: not for a smoke test.
      web: false,
      workerEnv: { RXSAGA_RETRY_BASE_MS: '50' },
      log: () => {},
      progress: false,
    });

    for (const run of [result.floor, ...result.drains, result.rate]) {
      assert.ok(run, 'every mode ran');
      assert.deepEqual(
        run.correctness.problems,
        [],
        `${run.mode} with ${run.workers} worker(s) was correct`,
      );
    }
    assert.equal(result.correct, true);
    assert.equal(result.floor!.sagas, 100);
    assert.deepEqual(
      result.drains.map((d) => d.sagas),
      [100, 100],
    );
    assert.equal(result.rate!.sagas, 50);
    // The mix reached every ending.
    assert.ok(
      (result.drains[0]!.correctness.byState.CANCELLED ?? 0) > 0,
      'some sagas were compensated',
    );
    assert.ok((result.drains[0]!.correctness.byState.COMPLETED ?? 0) > 0, 'some sagas completed');

    const json = JSON.parse(JSON.stringify(result)) as Record<string, unknown>;
    for (const field of [
      'sagasPerSecond',
      'floorSagasPerSecond',
      'ratioToFloor',
      'p50Ms',
      'p95Ms',
      'p99Ms',
      'cpuMsPerSaga',
    ]) {
      assert.equal(typeof json[field], 'number', `${field} is a number`);
    }
    assert.equal(typeof (json.scaleOut as { ratio: unknown }).ratio, 'number');
    for (const run of [result.floor!, ...result.drains, result.rate!]) {
      assert.ok(
        run.machineCpuPct > 0 && run.machineCpuPct <= 100,
        `machine CPU of ${run.mode} is a share of the CPUs: ${run.machineCpuPct}`,
      );
    }
  },
);
