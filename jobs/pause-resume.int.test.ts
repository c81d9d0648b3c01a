import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { releaseHeldSagas } from '@/db/pauses';
import { flagStalledSagas } from '@/jobs/sweeper';
import { AppError } from '@/lib/errors';
import { createOrder } from '@/server/commands/create-order';
import type { Task } from '@/lib/saga/model';
import { cancelSaga } from '@/server/commands/operator-action';
import { pauseTask, resumeTask } from '@/server/commands/task-pause';
import {
  eventTypes,
  getSagaRow,
  jobCount,
  orderInput,
  spawnWorkerProcess,
  useSagaTestDatabase,
  waitFor,
  withWorker,
} from '@/test/saga-harness';

const ctx = useSagaTestDatabase();
const operator = { actor: 'oncall', role: 'operator' as const };

const spawnWorker = () => spawnWorkerProcess(ctx.url, { RXSAGA_RESUME_RATE: '7' });

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill(signal);
  await once(child, 'exit');
}

async function count(query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await ctx.db.execute<{ n: number }>(query);
  return row?.n ?? 0;
}

const held = () => count(sql`select count(*)::int as n from paused_sagas`);
/** Each test starts with no pause and no hold (sagas of earlier tests stay where they are). */
const clearPauses = () => ctx.db.execute(sql`truncate task_pauses, paused_sagas`);

/** The engine's side of a pause: the row the pause command writes (server/commands/task-pause.ts). */
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

describe('pause and resume', () => {
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
  test('a pause holds sagas through a worker SIGKILL; resume completes every one exactly once', async () => {
    await clearPauses();
    assert.deepEqual(
      await pauseTask(ctx.db, 'initiate-shipment', { reason: 'carrier down' }, operator),
      { task: 'initiate-shipment', paused: true },
    );
    const sagaIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      sagaIds.push((await createOrder(ctx.db, orderInput({ patientId: `PAT-P${i}` }))).sagaId);
    }
    const first = spawnWorker();
    try {
      await waitFor(async () => (await held()) >= 5, 30_000, 'first holds');
    } finally {
      await stop(first, 'SIGKILL');
    }
    for (let i = 20; i < 30; i++) {
      sagaIds.push((await createOrder(ctx.db, orderInput({ patientId: `PAT-P${i}` }))).sagaId);
    }
    const second = spawnWorker();
    try {
      await waitFor(async () => (await held()) === 30, 60_000, 'every saga held');
      for (const sagaId of sagaIds) {
        const saga = await getSagaRow(ctx.db, sagaId);
        assert.equal(saga.state, 'PENDING_SHIPMENT');
        assert.equal(saga.attempts, 0, 'no attempt used');
        assert.equal(saga.needsIntervention, false);
      }
      assert.equal(await count(sql`select count(*)::int as n from shipments`), 0);
      assert.equal(
        await count(
          sql`select count(*)::int as n from graphile_worker.jobs where task_identifier = 'initiate-shipment'`,
        ),
        0,
        'held sagas have no shipment job',
      );

      assert.deepEqual(
        await resumeTask(ctx.db, 'initiate-shipment', { reason: 'carrier back' }, operator),
        { task: 'initiate-shipment', paused: false },
      );
      await waitFor(
        async () =>
          (await count(
            sql`select count(*)::int as n from order_fulfillment_sagas where state = 'COMPLETED'`,
          )) === 30,
        60_000,
        'every held saga completed',
      );
    } finally {
      await stop(second, 'SIGTERM');
    }
    assert.equal(await count(sql`select count(*)::int as n from shipments`), 30);
    assert.equal(
      await count(sql`select count(*)::int as n from (select metadata->>'correlationId' from events
        where type = 'order.shipment_initiated' group by 1 having count(*) > 1) d`),
      0,
      'no shipment twice',
    );
    assert.equal(await held(), 0);
    assert.equal(await jobCount(ctx.db), 0);
    const audit = await ctx.db.execute<{ action: string; actor: string; reason: string }>(
      sql`select action, actor, reason from audit_log where target = 'initiate-shipment' order by id`,
    );
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor, a.reason]),
      [
        ['task.pause', 'oncall', 'carrier down'],
        ['task.resume', 'oncall', 'carrier back'],
      ],
    );
  });

  test('each release run puts at most the rate back; a held saga cancelled meanwhile just loses its hold', async () => {
    await clearPauses();
    await pauseTask(ctx.db, 'initiate-shipment', { reason: 'again' }, operator);
    await pauseTask(ctx.db, 'initiate-shipment', { reason: 'twice' }, operator);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++)
      ids.push((await createOrder(ctx.db, orderInput({ patientId: `PAT-R${i}` }))).sagaId);
    await withWorker(() => waitFor(async () => (await held()) === 12, 30_000, 'held'));
    const [pause] = await ctx.db.execute<{ reason: string }>(sql`select reason from task_pauses`);
    assert.equal(pause?.reason, 'again', 'pausing a paused task keeps the first pause');

    await cancelSaga(ctx.db, ids[0]!, { reason: 'customer left' }, operator);
    const cancelled = await getSagaRow(ctx.db, ids[0]!);
    assert.equal(cancelled.state, 'CANCELLED_SHIPMENT_FAILED', 'a held saga can be cancelled');
    await ctx.db.execute(sql`delete from task_pauses`);
    const shipmentJobs = () =>
      count(
        sql`select count(*)::int as n from graphile_worker.jobs where task_identifier = 'initiate-shipment'`,
      );
    const runs = [];
    for (let run = 0; run < 3; run++) {
      runs.push(await ctx.db.transaction((tx) => releaseHeldSagas(tx, 'initiate-shipment', 5)));
      assert.ok(runs[run]!.released <= 5, 'never more than the rate per run');
    }
    assert.deepEqual(
      runs.map((r) => r.more),
      [true, true, false],
    );
    assert.equal(
      runs.reduce((n, r) => n + r.released, 0),
      11,
      'the eleven still waiting were released, the cancelled one only unheld',
    );
    assert.equal(await shipmentJobs(), 11);
    assert.equal(await held(), 0);
    assert.equal(
      await count(
        sql`select count(*)::int as n from graphile_worker.jobs where key = ${`${ids[0]}:initiate-shipment`}`,
      ),
      0,
      'no shipment job for the cancelled saga',
    );
  });

  test('unknown task: 404; a reason is required', async () => {
    await assert.rejects(
      pauseTask(ctx.db, 'create-order', { reason: 'nope' }, operator),
      (e: unknown) => e instanceof AppError && e.kind === 'not_found',
    );
    await assert.rejects(
      resumeTask(ctx.db, 'initiate-shipment', { reason: '' }, operator),
      (e: unknown) => e instanceof AppError && e.kind === 'invalid_input',
    );
  });
});
