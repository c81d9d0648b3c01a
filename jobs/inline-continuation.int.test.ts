import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { loadTask } from '@/db/saga-store';
import { createOrder } from '@/server/commands/create-order';
import { jobKey, type Task } from '@/lib/saga/model';
import {
  eventTypes,
  getSagaRow,
  jobCount,
  orderInput,
  deliverJob,
  useSagaTestDatabase,
} from '@/test/saga-harness';
import { runSagaTask } from './run-saga-task';
import type { Tx } from '@/db/client';

/** Takes the saga's queued job for `task` the way an inline run does; its id, or null. */
const claimQueuedJob = async (tx: Tx, sagaId: string, task: Task) =>
  (await loadTask(tx, sagaId, task, { kind: 'inline' })).jobId;

const ctx = useSagaTestDatabase();

type JobRow = {
  id: string;
  locked_at: Date | null;
  attempts: number;
};

async function queuedJob(sagaId: string, task: Task): Promise<JobRow | undefined> {
  const [row] = await ctx.db.execute<JobRow>(sql`
    select id::text, locked_at, attempts from graphile_worker.jobs where key = ${jobKey(sagaId, task)}`);
  return row;
}

const deliver = (sagaId: string, task: Task) => deliverJob(ctx.db, sagaId, task);

describe('inline continuation', () => {
  test('the worker that commits a step runs the next ones itself: one delivery, each step once, no job left', async () => {
    const { sagaId } = await createOrder(ctx.db, orderInput({ patientId: 'PAT-INLINE-1' }));
    const jobId = await deliver(sagaId, 'create-prescription');

    await runSagaTask('create-prescription', { sagaId }, { id: jobId });

    const saga = await getSagaRow(ctx.db, sagaId);
    assert.equal(saga?.state, 'COMPLETED');
    const types = await eventTypes(ctx.db, sagaId);
    for (const type of [
      'order.prescription_created',
      'order.inventory_reserved',
      'order.shipment_initiated',
    ]) {
      assert.equal(types.filter((t) => t === type).length, 1, `${type} once`);
    }
    assert.equal(
      await jobCount(ctx.db),
      0,
      'each inline step took (deleted) its job in its own transaction',
    );
  });

  test('a stopping worker takes no next step: its job stays queued, unlocked, for the other workers', async () => {
    const { sagaId } = await createOrder(ctx.db, orderInput({ patientId: 'PAT-INLINE-2' }));
    const jobId = await deliver(sagaId, 'create-prescription');

    await runSagaTask(
      'create-prescription',
      { sagaId },
      { id: jobId },
      { continueInline: () => false },
    );

    assert.equal((await getSagaRow(ctx.db, sagaId))?.state, 'PENDING_INVENTORY_RESERVATION');
    const next = await queuedJob(sagaId, 'reserve-inventory');
    assert.ok(next, 'the next step is queued');
    assert.equal(next.locked_at, null);
    assert.equal(
      await queuedJob(sagaId, 'create-prescription'),
      undefined,
      'the finished step left no job',
    );
  });

  test('a job another worker holds is not taken inline, and a taken job is back if the step rolls back', async () => {
    const { sagaId } = await createOrder(ctx.db, orderInput({ patientId: 'PAT-INLINE-3' }));

    // Queued and free: taken, but only for the transaction that took it.
    const rolledBack = new Error('the step failed');
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        assert.ok(await claimQueuedJob(tx, sagaId, 'create-prescription'));
        assert.equal(await claimQueuedJob(tx, sagaId, 'create-prescription'), null, 'taken once');
        throw rolledBack;
      }),
      rolledBack,
    );
    const back = await queuedJob(sagaId, 'create-prescription');
    assert.ok(back, 'the job is queued again after the rollback');
    assert.equal(back.locked_at, null);

    // Held by a worker: left to it.
    await deliver(sagaId, 'create-prescription');
    const taken = await ctx.db.transaction((tx) =>
      claimQueuedJob(tx, sagaId, 'create-prescription'),
    );
    assert.equal(taken, null);
    assert.ok(
      (await queuedJob(sagaId, 'create-prescription'))?.locked_at,
      'still held by its worker',
    );
  });
});
