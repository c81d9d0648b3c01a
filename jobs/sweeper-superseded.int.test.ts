import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { makeWorkerUtils, type WorkerUtils } from 'graphile-worker';
import { createOrder } from '@/server/commands/create-order';
import { cancelSaga } from '@/server/commands/operator-action';
import { getSagaRow, jobCount, orderInput, useSagaTestDatabase } from '@/test/saga-harness';
import {
  flagStalledSagas,
  purgeSupersededJobs,
  releaseDeadWorkers,
  type SweeperOptions,
} from './sweeper';

/**
 * Regression (found by `npm run chaos`): a job removed or replaced while it runs is only marked
 * (key cleared, attempts = max_attempts) for its runner to delete. A runner SIGKILLed at that
 * moment left it in the queue for ever once the sweeper released it.
 */
const ctx = useSagaTestDatabase();
let utils: WorkerUtils;
const options = (): SweeperOptions => ({
  db: ctx.db,
  utils,
  poolId: 'pool-test',
  workerIds: () => [],
  deadAfterSeconds: 2,
  stallSeconds: 1,
});

/** What a worker that took the job and then died leaves behind. */
async function lockAsDeadWorker(key: string): Promise<void> {
  await ctx.db.execute(sql`
    update graphile_worker._private_jobs set locked_by = 'worker-dead', locked_at = now() - interval '1 minute',
      attempts = attempts + 1
    where key = ${key}`);
}

describe('sweeper: jobs superseded while their runner died', () => {
  before(async () => {
    utils = await makeWorkerUtils({ connectionString: ctx.url });
  });
  after(async () => {
    await utils?.release();
  });

  test('an operator cancel of a step whose runner was SIGKILLed leaves no job behind', async () => {
    const { sagaId } = await createOrder(ctx.db, orderInput());
    await lockAsDeadWorker(`${sagaId}:create-prescription`);
    // The cancel dequeues the running step: graphile can only mark it, not delete it.
    await cancelSaga(ctx.db, sagaId, { reason: 'customer called' }, 'operator:alice');
    const [marked] = await ctx.db.execute<{ n: number }>(
      sql`select count(*)::int as n from graphile_worker.jobs where key is null and attempts >= max_attempts`,
    );
    assert.equal(marked!.n, 1, 'the running step is marked superseded');

    assert.ok((await releaseDeadWorkers(options())) >= 1, 'the dead worker is released');
    assert.equal(await purgeSupersededJobs(options()), 1);
    const left = await ctx.db.execute<{ task_identifier: string }>(
      sql`select task_identifier from graphile_worker.jobs`,
    );
    assert.deepEqual(
      left.map((r) => r.task_identifier),
      ['cancel-order'],
      'only the compensation the cancel queued is left',
    );
  });

  test('a job still locked (a live runner) is never purged', async () => {
    const before = await jobCount(ctx.db);
    const { sagaId } = await createOrder(ctx.db, orderInput());
    await ctx.db.execute(sql`
      update graphile_worker._private_jobs set locked_by = 'worker-alive', locked_at = now(), key = null,
        attempts = max_attempts where key = ${`${sagaId}:create-prescription`}`);
    assert.equal(await purgeSupersededJobs(options()), 0);
    assert.equal(await jobCount(ctx.db), before + 1);
  });

  test('a saga whose only job ran out of attempts is flagged as stalled, not left waiting for ever', async () => {
    const { sagaId } = await createOrder(ctx.db, orderInput());
    await ctx.db.execute(sql`
      update graphile_worker._private_jobs set attempts = max_attempts where key = ${`${sagaId}:create-prescription`}`);
    await ctx.db.execute(
      sql`update order_fulfillment_sagas set updated_at = now() - interval '1 minute' where saga_id = ${sagaId}`,
    );
    await flagStalledSagas(options());
    const saga = await getSagaRow(ctx.db, sagaId);
    assert.equal(saga.needsIntervention, true);
    assert.match(saga.interventionReason ?? '', /stalled/);
  });
});
