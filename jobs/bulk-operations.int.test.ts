import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { applyDecision, lockSaga } from '@/db/saga-store';
import { getBulkOperation } from '@/db/bulk-operations';
import { listFailureGroups } from '@/db/queries/failure-groups';
import { cancelBulkOperation, startBulkOperation } from '@/server/commands/bulk-operation';
import { cancelSaga } from '@/server/commands/operator-action';
import { FOLLOW_UP_PRIORITY } from '@/db/bulk-operations';
import { createOrder } from '@/server/commands/create-order';
import { pauseTask, resumeTask } from '@/server/commands/task-pause';
import { AppError } from '@/lib/errors';
import { interventionRequired } from '@/lib/saga/decide';
import {
  orderInput,
  useSagaTestDatabase,
  waitFor,
  waitForSettled,
  withPostalCode,
  withWorker,
  getSagaRow,
  eventTypes,
  reservationMismatches,
} from '@/test/saga-harness';
import { assertStatsRollupsMatch } from '@/test/stats-rollup';
import { replayProjections } from '@/db/replay';
import { setFaultSetting } from '@/db/faults';
import { followUpLockId, runBulkBatch, runBulkOperation } from './run-bulk-operation';

// A dead worker's jobs (here: a dead operation run's follow-ups) are released after 3 s.
const ctx = useSagaTestDatabase({ RXSAGA_MAX_ATTEMPTS: '2', RXSAGA_WORKER_DEAD_SECONDS: '3' });
const operator = { actor: 'oncall', role: 'operator' as const, requestId: 'req-1' };

async function count(query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await ctx.db.execute<{ n: number }>(query);
  return row?.n ?? 0;
}

/** Everything an operation could change, to compare before and after a dry run. */
const footprint = () =>
  ctx.db.execute(sql`select
    (select count(*)::int from events) as events, (select count(*)::int from audit_log) as audit,
    (select count(*)::int from graphile_worker.jobs) as jobs,
    (select count(*)::int from bulk_operations) as operations,
    (select string_agg(saga_id || state || needs_intervention, ',' order by saga_id) from order_fulfillment_sagas) as sagas`);

/**
 * `n` sagas waiting at the shipment, each flagged by the engine's own decision with a reason of
 * its own: they reach PENDING_SHIPMENT behind a pause, and are flagged where they wait.
 */
async function flaggedAtShipment(
  n: number,
  reason: (orderId: string) => string,
): Promise<string[]> {
  await pauseTask(ctx.db, 'initiate-shipment', { reason: 'setting up' }, operator);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await createOrder(ctx.db, orderInput())).sagaId);
  await withWorker(() =>
    waitFor(
      async () =>
        (await count(
          sql`select count(*)::int as n from paused_sagas where saga_id = any(${`{${ids.join(',')}}`}::uuid[])`,
        )) === n,
      60_000,
      'sagas held at the shipment',
    ),
  );
  for (const sagaId of ids) {
    await ctx.db.transaction(async (tx) => {
      const stored = await lockSaga(tx, sagaId);
      assert.ok(stored);
      const { saga } = stored;
      await applyDecision(tx, stored, interventionRequired(saga, reason(saga.orderId), 2), {
        actor: 'system:test',
      });
    });
  }
  // Other sagas may have reached the pause meanwhile (an operation's retries): the resume
  // releases those; these are flagged, so the release only drops their holds.
  await resumeTask(ctx.db, 'initiate-shipment', { reason: 'set up' }, operator);
  return ids;
}

/** A bulk operation on exactly these sagas, created (not yet run). */
async function startOn(ids: string[], action: 'cancel' | 'retry' = 'cancel') {
  const reason = action === 'cancel' ? 'carrier gone' : 'carrier back';
  const answer = await startBulkOperation(
    ctx.db,
    { action, filter: { sagaIds: ids }, reason },
    operator,
  );
  assert.ok(!answer.dryRun);
  return { ids, operationId: answer.operationId };
}

/** `n` sagas flagged at the shipment and a bulk operation on them created (not yet run). */
async function flaggedWithOperation(n: number, cause: string, action?: 'cancel' | 'retry') {
  const ids = await flaggedAtShipment(
    n,
    (o) => `initiate-shipment failed after 2 attempts: ${cause} ${o}`,
  );
  return startOn(ids, action);
}

/** Runs a worker until the operation is done; returns it. */
async function runToTheEnd(operationId: string) {
  await withWorker(() =>
    waitFor(
      async () => (await getBulkOperation(ctx.db, operationId))?.status === 'done',
      30_000,
      'the operation to finish',
    ),
  );
  return getBulkOperation(ctx.db, operationId);
}

const opEvents = (operationId: string) =>
  ctx.db.execute<{ saga_id: string; n: number }>(sql`
    select metadata->>'correlationId' as saga_id, count(*)::int as n from events
    where metadata->>'operationId' = ${operationId} group by 1`);

describe('failure groups and bulk operations', () => {
  let timeouts: string[] = [];
  const exhausted: string[] = [];

  test('grouping takes ids and numbers out: one cause, one group', async () => {
    timeouts = await flaggedAtShipment(
      5,
      (orderId) =>
        `initiate-shipment failed after 2 attempts: carrier timeout (504) for ${orderId}`,
    );
    // Real engine failures: 00504 fails every attempt until attempts run out.
    for (let i = 0; i < 3; i++) {
      exhausted.push((await createOrder(ctx.db, withPostalCode('00504'))).sagaId);
    }
    await withWorker(() => waitForSettled(ctx.db, 60_000));

    const groups = await listFailureGroups(ctx.db);
    assert.deepEqual(
      groups.map((g) => [g.task, g.kind, g.error, g.count]),
      [
        ['initiate-shipment', 'retries-exhausted', 'carrier timeout (<n>) for <id>', 5],
        ['initiate-shipment', 'retries-exhausted', 'carrier gateway timeout (<n>)', 3],
      ],
    );
    assert.ok(timeouts.includes(groups[0]!.sample.sagaId));
    assert.ok(groups[0]!.firstSeenAt! <= groups[0]!.lastSeenAt!);
  });

  test('a dry run answers the count and a sample and changes nothing', async () => {
    const [group] = await listFailureGroups(ctx.db);
    const before = await footprint();
    const answer = await startBulkOperation(
      ctx.db,
      {
        action: 'cancel',
        filter: { groupId: group!.groupId },
        reason: 'carrier down',
        dryRun: true,
      },
      operator,
    );
    assert.equal(answer.dryRun, true);
    assert.ok(answer.dryRun);
    assert.equal(answer.matched, 5);
    assert.deepEqual([...answer.sample].sort(), [...timeouts].sort());
    assert.deepEqual(await footprint(), before);
  });

  test('bad filters are refused with their issues, nothing stored', async () => {
    const before = await footprint();
    for (const body of [
      { action: 'cancel', filter: {}, reason: 'all of them' },
      { action: 'cancel', filter: { state: 'NOPE' }, reason: 'x y z' },
      { action: 'delete', filter: { needsIntervention: true }, reason: 'x y z' },
      { action: 'retry', filter: { needsIntervention: true }, reason: '' },
      { action: 'retry', filter: { needsIntervention: true, extra: 1 }, reason: 'x y z' },
      { action: 'retry', filter: { sagaIds: ['not-a-uuid'] }, reason: 'x y z' },
      { action: 'retry', filter: { startedAfter: 'yesterday' }, reason: 'x y z' },
    ]) {
      await assert.rejects(
        startBulkOperation(ctx.db, body, operator),
        (e: unknown) => e instanceof AppError && e.kind === 'invalid_input' && e.issues.length > 0,
        JSON.stringify(body),
      );
    }
    assert.deepEqual(await footprint(), before);
  });

  test('a selection (sagaIds) acts on exactly those sagas, with the operation id on their events', async () => {
    const answer = await startBulkOperation(
      ctx.db,
      {
        action: 'retry',
        filter: {
          needsIntervention: true,
          task: 'initiate-shipment',
          sagaIds: exhausted.slice(0, 2),
        },
        reason: 'carrier back',
      },
      operator,
    );
    assert.ok(!answer.dryRun);
    assert.equal(answer.matched, 2);
    // The third 00504 saga matches every condition but the ids: it is not touched.
    const op = await runToTheEnd(answer.operationId);
    assert.deepEqual(
      {
        status: op?.status,
        total: op?.total,
        succeeded: op?.succeeded,
        skipped: op?.skipped,
        failed: op?.failed,
      },
      { status: 'done', total: 2, succeeded: 2, skipped: 0, failed: 0 },
    );
    const touched = (await opEvents(answer.operationId)).map((r) => r.saga_id).sort();
    assert.deepEqual(touched, exhausted.slice(0, 2).sort());
  });

  test('the set is frozen: sagas flagged after creation are left alone', async () => {
    const answer = await startBulkOperation(
      ctx.db,
      {
        action: 'retry',
        filter: { needsIntervention: true, task: 'initiate-shipment' },
        reason: 'try again',
      },
      operator,
    );
    assert.ok(!answer.dryRun);
    const frozen = answer.matched;
    const later = await flaggedAtShipment(
      2,
      (o) => `initiate-shipment failed after 2 attempts: late ${o}`,
    );
    const op = await runToTheEnd(answer.operationId);
    assert.equal(op?.total, frozen);
    const touched = new Set((await opEvents(answer.operationId)).map((r) => r.saga_id));
    assert.equal(touched.size, frozen);
    for (const sagaId of later) assert.ok(!touched.has(sagaId), 'a later saga was not touched');
    assert.equal(
      await count(
        sql`select count(*)::int as n from order_fulfillment_sagas where needs_intervention and saga_id = any(${`{${later.join(',')}}`}::uuid[])`,
      ),
      2,
    );
  });

  test('cancel of a running operation: the batch done stays done, nothing after it', async () => {
    await withWorker(() => waitForSettled(ctx.db, 60_000));
    const ids = await flaggedAtShipment(
      120,
      (o) => `initiate-shipment failed after 2 attempts: down for ${o}`,
    );
    const answer = await startBulkOperation(
      ctx.db,
      { action: 'cancel', filter: { sagaIds: ids }, reason: 'give up' },
      operator,
    );
    assert.ok(!answer.dryRun);
    assert.equal((await runBulkBatch(answer.operationId, 50)).result, 'processed');
    const cancelled = await cancelBulkOperation(
      ctx.db,
      answer.operationId,
      { reason: 'wrong filter' },
      operator,
    );
    assert.deepEqual(
      [cancelled.status, cancelled.total, cancelled.succeeded, cancelled.skipped],
      ['cancelled', 120, 50, 0],
    );
    assert.ok(cancelled.finishedAt);
    await runBulkOperation({ operationId: answer.operationId });
    assert.equal(
      (await opEvents(answer.operationId)).length,
      50,
      'no saga touched after the cancel',
    );
    await assert.rejects(
      cancelBulkOperation(ctx.db, answer.operationId, {}, operator),
      (e: unknown) => e instanceof AppError && e.kind === 'conflict',
    );
    const audit = await ctx.db.execute<{ action: string }>(
      sql`select action from audit_log where target = ${answer.operationId} order by id`,
    );
    assert.deepEqual(
      audit.map((a) => a.action),
      ['bulk.create', 'bulk.cancel'],
    );
  });

  test('two workers never process one saga of an operation twice; a saga the state forbids is skipped', async () => {
    // The cancels before compensate first (they queue behind new sagas' steps), freeing their stock.
    await withWorker(() => waitForSettled(ctx.db, 60_000));
    const ids = await flaggedAtShipment(
      80,
      (o) => `initiate-shipment failed after 2 attempts: race ${o}`,
    );
    const [completed] = await ctx.db.execute<{ saga_id: string }>(
      sql`select saga_id::text from order_fulfillment_sagas where state = 'COMPLETED' limit 1`,
    );
    const targets = [...ids, completed!.saga_id];
    const answer = await startBulkOperation(
      ctx.db,
      { action: 'cancel', filter: { sagaIds: targets }, reason: 'race' },
      operator,
    );
    assert.ok(!answer.dryRun);
    // Four batch loops at once, as four workers would run them.
    const drain = async () => {
      while ((await runBulkBatch(answer.operationId, 7)).result === 'processed');
    };
    await Promise.all([drain(), drain(), drain(), drain()]);
    await runBulkOperation({ operationId: answer.operationId });
    const op = await getBulkOperation(ctx.db, answer.operationId);
    assert.deepEqual(
      [op?.status, op?.total, op?.succeeded, op?.skipped, op?.failed],
      ['done', 81, 80, 1, 0],
    );
    const perSaga = await opEvents(answer.operationId);
    assert.equal(perSaga.length, 80);
    assert.ok(
      perSaga.every((r) => r.n === 2),
      'cancel_requested + state_changed, once each',
    );
    assert.equal(
      await count(
        sql`select count(*)::int as n from audit_log where action = 'saga.cancel' and after->>'operationId' = ${answer.operationId}`,
      ),
      80,
      'one audit entry per saga, as for a single cancel',
    );
    assert.equal(
      await count(
        sql`select count(*)::int as n from events where type = 'order_fulfillment_saga.cancel_requested' and metadata->>'operationId' = ${answer.operationId} and metadata->>'actor' = 'oncall'`,
      ),
      80,
    );
    await withWorker(() => waitForSettled(ctx.db, 60_000));
    assert.equal(
      await count(
        sql`select count(*)::int as n from order_fulfillment_sagas where state = 'CANCELLED' and saga_id = any(${`{${ids.join(',')}}`}::uuid[])`,
      ),
      80,
      'each cancelled saga compensated',
    );
  });

  test('a batch acts on its sagas at once as single actions would; those changed meanwhile are skipped', async () => {
    const { ids, operationId } = await flaggedWithOperation(6, 'gone');
    // After the set is fixed, two of its sagas are cancelled one by one.
    for (const sagaId of ids.slice(0, 2))
      await cancelSaga(ctx.db, sagaId, { reason: 'by hand' }, operator);
    assert.equal((await runBulkBatch(operationId, 50)).result, 'processed');
    await runBulkOperation({ operationId: operationId });
    const op = await getBulkOperation(ctx.db, operationId);
    assert.deepEqual(
      [op?.status, op?.total, op?.succeeded, op?.skipped, op?.failed],
      ['done', 6, 4, 2, 0],
    );
    const skipped = await ctx.db.execute<{ saga_id: string; message: string }>(sql`
      select saga_id::text, message from bulk_operation_items
      where operation_id = ${operationId} and outcome = 'skipped' order by saga_id`);
    assert.deepEqual(
      skipped.map((r) => r.saga_id),
      ids.slice(0, 2).sort(),
    );
    assert.ok(
      skipped.every((r) => /cannot be cancelled/.test(r.message)),
      'the single refusal',
    );
    // The skipped ones carry only their own cancel; the others the operation's, once each.
    const perSaga = await opEvents(operationId);
    assert.deepEqual(perSaga.map((r) => r.saga_id).sort(), ids.slice(2).sort());
    assert.ok(perSaga.every((r) => r.n === 2));
    assert.equal(
      await count(sql`select count(*)::int as n from events
        where type = 'order_fulfillment_saga.cancel_requested'
          and metadata->>'correlationId' = any(${`{${ids.join(',')}}`}::text[])`),
      6,
      'one cancel per saga, whichever way it came',
    );
    const audit = await ctx.db.execute<{ target: string; before: unknown; after: unknown }>(sql`
      select target, before - 'interventionReason' as before,
        after - 'operationId' - 'interventionReason' as after from audit_log
      where action = 'saga.cancel' and target = any(${`{${ids.join(',')}}`}::text[])
        and (after->>'operationId' = ${operationId} or target = ${ids[0]!})`);
    assert.equal(audit.length, 5, 'four entries of the operation, one of the single cancel');
    const reference = audit.find((a) => a.target === ids[0]);
    for (const a of audit)
      assert.deepEqual([a.before, a.after], [reference?.before, reference?.after]);
    // The single cancels' compensations wait in the queue for any worker; the operation's ran
    // in its batch: none of its sagas has a job left.
    const jobs = await ctx.db.execute<{ saga_id: string; priority: number }>(sql`
      select payload->>'sagaId' as saga_id, priority from graphile_worker._private_jobs
      where payload->>'sagaId' = any(${`{${ids.join(',')}}`}::text[]) order by 1`);
    assert.deepEqual(
      jobs.map((j) => [j.saga_id, j.priority]),
      ids
        .slice(0, 2)
        .sort()
        .map((id) => [id, 0]),
    );
    await withWorker(() => waitForSettled(ctx.db, 60_000));
    // Compensated in the batch or by the workers, a saga ends the same, with the same events.
    const shape = async (sagaId: string) => {
      const r = await getSagaRow(ctx.db, sagaId);
      return [
        r.state,
        r.currentTask,
        r.needsIntervention,
        r.interventionReason === null,
        r.version,
        r.orderVersion,
        r.completedSteps,
        r.compensationsDone,
        r.attempts,
        await eventTypes(ctx.db, sagaId),
      ];
    };
    const single = await shape(ids[0]!);
    assert.equal(single[0], 'CANCELLED');
    for (const sagaId of ids.slice(1)) assert.deepEqual(await shape(sagaId), single, sagaId);
  });

  test('a batch that fails as a whole is taken one saga at a time: only the saga at fault is left out', async () => {
    const { ids, operationId } = await flaggedWithOperation(3, 'dup');
    // An event already holds the key the operation's cancel of ids[1] would append under.
    await ctx.db.execute(sql`insert into events (saga_month, stream_id, version, type, payload,
        metadata, idempotency_key)
      select saga_month(started_at), 'test:dup', 1, 'order_fulfillment_saga.cancel_requested',
        '{}', '{"correlationId":"test"}', ${`${ids[1]}:bulk:${operationId}`}
      from order_fulfillment_sagas where saga_id = ${ids[1]!}`);
    try {
      assert.equal((await runBulkBatch(operationId, 50)).result, 'processed');
      await runBulkOperation({ operationId: operationId });
      const op = await getBulkOperation(ctx.db, operationId);
      assert.deepEqual([op?.status, op?.succeeded, op?.skipped, op?.failed], ['done', 2, 1, 0]);
      const [item] = await ctx.db.execute<{ outcome: string; message: string }>(sql`
        select outcome, message from bulk_operation_items
        where operation_id = ${operationId} and saga_id = ${ids[1]!}`);
      assert.deepEqual(item, { outcome: 'skipped', message: 'already done by this operation' });
      const perSaga = await opEvents(operationId);
      assert.deepEqual(perSaga.map((r) => r.saga_id).sort(), [ids[0]!, ids[2]!].sort());
      assert.ok(
        perSaga.every((r) => r.n === 2),
        'no event twice, none of the rolled-back try',
      );
      assert.equal((await getSagaRow(ctx.db, ids[1]!)).needsIntervention, true, 'left alone');
      assert.equal(
        await count(sql`select count(*)::int as n from audit_log
          where action = 'saga.cancel' and after->>'operationId' = ${operationId}`),
        2,
      );
    } finally {
      await ctx.db.execute(sql`delete from events where stream_id = 'test:dup'`);
    }
  });
  test('an operation runs its own follow-up work: none of it waits in the queue, new sagas go through', async () => {
    await withWorker(() => waitForSettled(ctx.db, 60_000));
    const { ids, operationId } = await flaggedWithOperation(40, 'lanes');
    const due = sql`select count(*)::int as n from graphile_worker._private_jobs
      where priority = ${FOLLOW_UP_PRIORITY} and is_available`;
    const running = async () => (await getBulkOperation(ctx.db, operationId))?.status === 'running';
    const newSagas: string[] = [];
    let samples = 0;
    let mostDue = 0;
    await withWorker(async () => {
      for (let i = 0; i < 5; i++) newSagas.push((await createOrder(ctx.db, orderInput())).sagaId);
      while (await running()) {
        mostDue = Math.max(mostDue, await count(due));
        samples++;
      }
      await waitForSettled(ctx.db, 60_000);
    });
    assert.ok(samples > 0, 'sampled while the operation ran');
    // Before: each batch queued its 100 compensations, due for every worker's slots.
    assert.equal(mostDue, 0, 'no follow-up job of the operation was ever due in the queue');
    const compensations = await ctx.db.execute<{ saga_id: string; n: number; tasks: number }>(sql`
      select metadata->>'correlationId' as saga_id, count(*)::int as n,
        count(distinct payload->>'task')::int as tasks from events
      where type = 'order_fulfillment_saga.compensation_recorded'
        and metadata->>'correlationId' = any(${`{${ids.join(',')}}`}::text[])
      group by 1`);
    assert.equal(compensations.length, ids.length, 'every saga compensated');
    assert.ok(
      compensations.every((c) => c.n === 3 && c.tasks === 3),
      'each compensation once per saga',
    );
    assert.equal(
      await count(sql`select count(*)::int as n from order_fulfillment_sagas
        where state = 'CANCELLED' and saga_id = any(${`{${ids.join(',')}}`}::uuid[])`),
      ids.length,
    );
    for (const sagaId of newSagas)
      assert.equal((await getSagaRow(ctx.db, sagaId)).state, 'COMPLETED');
  });

  test('follow-up jobs left by a run that died are released by the sweeper and run once', async () => {
    await withWorker(() => waitForSettled(ctx.db, 60_000));
    // A retry's follow-up is the saga's step, run by the operation after the batch.
    const { ids, operationId } = await flaggedWithOperation(10, 'died', 'retry');
    // The batch commits with its follow-ups locked by the operation; the run dies before them.
    const batch = await runBulkBatch(operationId, 50, followUpLockId(operationId));
    assert.equal(batch.result, 'processed');
    assert.equal(batch.result === 'processed' && batch.followUps.length, 10);
    const held = await ctx.db.execute<{ locked_by: string; available: boolean }>(sql`
      select locked_by, is_available as available from graphile_worker._private_jobs
      where payload->>'sagaId' = any(${`{${ids.join(',')}}`}::text[])`);
    assert.equal(held.length, 10);
    assert.ok(held.every((j) => j.locked_by === followUpLockId(operationId) && !j.available));
    await withWorker(() => waitForSettled(ctx.db, 60_000));
    assert.equal(
      await count(sql`select count(*)::int as n from events
        where type = 'order.shipment_initiated'
          and metadata->>'correlationId' = any(${`{${ids.join(',')}}`}::text[])`),
      10,
      'each retried step once',
    );
    assert.equal(
      await count(sql`select count(*)::int as n from order_fulfillment_sagas
        where state = 'COMPLETED' and saga_id = any(${`{${ids.join(',')}}`}::uuid[])`),
      10,
    );
    assert.equal((await getBulkOperation(ctx.db, operationId))?.status, 'done');
  });

  test("a bulk cancel compensates its sagas in the batch itself: no job, the single tasks' rows, replayable", async () => {
    await withWorker(() => waitForSettled(ctx.db, 60_000));
    const stock = () =>
      ctx.db.execute<{ sku: string; on_hand: number; reserved: number }>(
        sql`select sku, on_hand, reserved from inventory_items order by sku`,
      );
    const stockBefore = await stock();
    const { ids, operationId } = await flaggedWithOperation(12, 'inline');
    const among = sql`${`{${ids.join(',')}}`}::uuid[]`;
    const amongText = sql`${`{${ids.join(',')}}`}::text[]`;
    assert.notDeepEqual(await stock(), stockBefore, 'the flagged sagas hold stock');
    const batch = await runBulkBatch(operationId, 50, followUpLockId(operationId));
    assert.deepEqual(
      [batch.result, batch.result === 'processed' && batch.followUps.length],
      ['processed', 0],
    );
    // No worker ran: the batch's transaction alone cancelled and compensated every saga.
    const rows = await Promise.all(ids.map((id) => getSagaRow(ctx.db, id)));
    assert.ok(
      rows.every((r) => r.state === 'CANCELLED' && !r.needsIntervention),
      'CANCELLED',
    );
    assert.deepEqual(rows[0]!.compensationsDone, [
      'release-inventory',
      'cancel-prescription',
      'cancel-order',
    ]);
    assert.equal(
      await count(sql`select count(*)::int as n from graphile_worker._private_jobs
        where payload->>'sagaId' = any(${amongText})`),
      0,
      'no job left for any of them',
    );
    assert.deepEqual(await stock(), stockBefore, 'their stock is back');
    assert.deepEqual(await reservationMismatches(ctx.db), []);
    assert.equal(
      await count(sql`select count(*)::int as n from inventory_reservations
        where saga_id = any(${among}) and (status <> 'released' or released_at is null)`),
      0,
    );
    assert.equal(
      await count(sql`select count(*)::int as n from prescriptions
        where saga_id = any(${among}) and status = 'cancelled' and cancelled_at is not null`),
      12,
    );
    assert.equal(
      await count(sql`select count(*)::int as n from orders
        where saga_id = any(${among}) and status = 'cancelled' and cancelled_at is not null`),
      12,
    );
    // Each compensation once per saga, caused by the operation (its cancel carries the id).
    const compensations = await ctx.db.execute<{ n: number; tasks: number; causes: string[] }>(sql`
      select count(*)::int as n, count(distinct payload->>'task')::int as tasks,
        array_agg(distinct metadata->>'causationId') as causes from events
      where type = 'order_fulfillment_saga.compensation_recorded'
        and metadata->>'correlationId' = any(${amongText})
      group by metadata->>'correlationId'`);
    assert.equal(compensations.length, 12);
    for (const c of compensations)
      assert.deepEqual([c.n, c.tasks, c.causes], [3, 3, [`bulk:${operationId}`]]);
    assert.equal((await opEvents(operationId)).length, 12);
    // Stats and metrics as the single tasks would leave them.
    await assertStatsRollupsMatch(ctx.db);
    const [metric] = await ctx.db.execute<{ counted: number; cancelled: number }>(sql`
      select (select coalesce(sum(value), 0)::int from (select value from metric_counters
          where name = 'sagas_cancelled' union all select value from metric_counter_deltas
          where name = 'sagas_cancelled') v) as counted,
        (select count(*)::int from order_fulfillment_sagas where state = 'CANCELLED') as cancelled`);
    assert.equal(metric!.counted, metric!.cancelled);
    // Replay reproduces the projections it wrote.
    const projections = async () =>
      JSON.parse(
        JSON.stringify({
          sagas: await ctx.db.execute(
            sql`select * from order_fulfillment_sagas where saga_id = any(${among}) order by saga_id`,
          ),
          orders: await ctx.db.execute(
            sql`select * from orders where saga_id = any(${among}) order by order_id`,
          ),
          prescriptions: await ctx.db.execute(
            sql`select * from prescriptions where saga_id = any(${among}) order by prescription_id`,
          ),
          reservations: await ctx.db.execute(
            sql`select * from inventory_reservations where saga_id = any(${among}) order by saga_id, sku`,
          ),
          stock: await stock(),
        }),
      ) as unknown;
    const live = await projections();
    await replayProjections(ctx.db);
    assert.deepEqual(await projections(), live);
    await runBulkOperation({ operationId });
    assert.equal((await getBulkOperation(ctx.db, operationId))?.succeeded, 12);
  });

  test('a paused compensation, or one with a fault setting, is left to its task: the chain stops before it', async () => {
    await withWorker(() => waitForSettled(ctx.db, 60_000));
    // Both sets flagged before either operation exists (a worker would run it at once).
    const pausedIds = await flaggedAtShipment(4, (o) => `initiate-shipment failed: paused ${o}`);
    const faultyIds = await flaggedAtShipment(2, (o) => `initiate-shipment failed: faulty ${o}`);
    const paused = await startOn(pausedIds);
    const faulty = await startOn(faultyIds);
    await pauseTask(ctx.db, 'cancel-prescription', { reason: 'prescriber down' }, operator);
    await setFaultSetting(ctx.db, {
      task: 'release-inventory',
      failureRate: 0,
      transientRate: 0,
      latencyMs: 5,
    });
    try {
      const tasksOf = (b: Awaited<ReturnType<typeof runBulkBatch>>) =>
        b.result === 'processed' ? b.followUps.map((f) => f.task) : [];
      // A drill's fault on the first compensation: none runs in the batch.
      const first = await runBulkBatch(faulty.operationId, 50, followUpLockId(faulty.operationId));
      assert.deepEqual(tasksOf(first), ['release-inventory', 'release-inventory']);
      for (const id of faulty.ids)
        assert.deepEqual((await getSagaRow(ctx.db, id)).compensationsDone, []);
      await setFaultSetting(ctx.db, {
        task: 'release-inventory',
        failureRate: 0,
        transientRate: 0,
        latencyMs: 0,
      });
      // The second compensation paused: the first ran in the batch, the rest waits for it.
      const second = await runBulkBatch(paused.operationId, 50, followUpLockId(paused.operationId));
      assert.deepEqual(tasksOf(second), Array(4).fill('cancel-prescription'));
      for (const id of paused.ids) {
        const row = await getSagaRow(ctx.db, id);
        assert.deepEqual(
          [row.state, row.compensationsDone],
          ['CANCELLED_SHIPMENT_FAILED', ['release-inventory']],
        );
      }
      // Released by the sweeper (the run "died"), the follow-ups find the pause and hold.
      await withWorker(() =>
        waitFor(
          async () =>
            (await count(sql`select count(*)::int as n from paused_sagas
              where saga_id = any(${`{${paused.ids.join(',')}}`}::uuid[])`)) === 4,
          30_000,
          'the sagas held at cancel-prescription',
        ),
      );
    } finally {
      await resumeTask(ctx.db, 'cancel-prescription', { reason: 'back' }, operator);
    }
    await withWorker(() => waitForSettled(ctx.db, 60_000));
    const all = [...paused.ids, ...faulty.ids];
    assert.equal(
      await count(sql`select count(*)::int as n from order_fulfillment_sagas
        where state = 'CANCELLED' and saga_id = any(${`{${all.join(',')}}`}::uuid[])`),
      6,
    );
    assert.equal(
      await count(sql`select count(*)::int as n from events
        where type = 'order_fulfillment_saga.compensation_recorded'
          and metadata->>'correlationId' = any(${`{${all.join(',')}}`}::text[])`),
      18,
      'three compensations per saga, once each',
    );
  });
});
