import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { flagStalledSagas } from '@/jobs/sweeper';
import { createOrder } from '@/lib/commands/create-order';
import type { Task } from '@/lib/saga/model';
import {
  eventTypes,
  getSagaRow,
  jobCount,
  orderInput,
  useSagaTestDatabase,
  waitFor,
  withWorker,
} from '@/test/saga-harness';

const ctx = useSagaTestDatabase();

/** The engine's side of a pause: the row the pause command writes (lib/commands/task-pause.ts). */
async function pauseRow(task: Task): Promise<void> {
  await ctx.db.execute(
    sql`insert into task_pauses (task, reason, paused_by) values (${task}, 'test', 'tester')`,
  );
}

async function heldAt(task: Task): Promise<string[]> {
  const rows = await ctx.db.execute<{ saga_id: string }>(
    sql`select saga_id::text from paused_sagas where task = ${task} order by saga_id`,
  );
  return rows.map((r) => r.saga_id);
}

/** The stall detector of the sweeper, with a 60 s threshold (the sagas are backdated an hour). */
const stallSweep = () =>
  flagStalledSagas({
    db: ctx.db,
    utils: null as never, // flagging stalls needs no WorkerUtils
    poolId: 'test',
    workerIds: () => [],
    deadAfterSeconds: 30,
    stallSeconds: 60,
  });

describe('a paused task holds the sagas that reach it', () => {
  test('inline path (initiate-shipment) and graphile path (create-prescription): no attempt, no job, no stall flag', async () => {
    await pauseRow('initiate-shipment');
    const shipping = [];
    for (let i = 0; i < 4; i++)
      shipping.push((await createOrder(ctx.db, orderInput({ patientId: `PAT-HOLD-${i}` }))).sagaId);

    await withWorker(async () => {
      // The worker takes create-prescription from the queue and runs reserve-inventory and
      // initiate-shipment inline: the inline path meets the pause.
      await waitFor(
        async () => (await heldAt('initiate-shipment')).length === 4,
        20_000,
        'sagas held at the shipment',
      );

      await pauseRow('create-prescription');
      const { sagaId: early } = await createOrder(
        ctx.db,
        orderInput({ patientId: 'PAT-HOLD-EARLY' }),
      );
      await waitFor(
        async () => (await heldAt('create-prescription')).includes(early),
        20_000,
        'held at the prescription',
      );
      shipping.push(early);
    });

    for (const sagaId of shipping) {
      const saga = await getSagaRow(ctx.db, sagaId);
      assert.ok(['PENDING_SHIPMENT', 'PENDING_PRESCRIPTION'].includes(saga.state), saga.state);
      assert.equal(saga.attempts, 0, 'no attempt used');
      assert.equal(saga.needsIntervention, false);
      const types = await eventTypes(ctx.db, sagaId);
      assert.ok(!types.includes('order_fulfillment_saga.attempt_failed'));
    }
    assert.equal(await jobCount(ctx.db), 0, 'a held saga has no job: its workers are free');

    // Long past the stall threshold (backdated), the detector leaves held sagas alone.
    await ctx.db.execute(
      sql`update order_fulfillment_sagas set updated_at = now() - interval '1 hour'`,
    );
    const flagged = await stallSweep();
    assert.equal(flagged, 0, 'waiting at a paused task is not a stall');

    // Without the pause (and no release coming), a held saga is a stall again: nothing is lost.
    await ctx.db.execute(sql`delete from task_pauses where task = 'create-prescription'`);
    const stranded = await stallSweep();
    assert.equal(
      stranded,
      1,
      'the held saga of a task paused no more, with no release, is flagged',
    );
  });
});
