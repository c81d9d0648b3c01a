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
} from '@/test/saga-harness';
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

/** `n` sagas flagged at the shipment and a bulk cancel of them created (not yet run). */
async function flaggedAndCancelled(n: number, cause: string) {
  const ids = await flaggedAtShipment(
    n,
    (o) => `initiate-shipment failed after 2 attempts: ${cause} ${o}`,
  );
  const answer = await startBulkOperation(
    ctx.db,
    { action: 'cancel', filter: { sagaIds: ids }, reason: 'carrier gone' },
    operator,
  );
  assert.ok(!answer.dryRun);
  return { ids, operationId: answer.operationId };
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
    const { ids, operationId } = await flaggedAndCancelled(6, 'gone');
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
    // Acted on in one go, a saga ends where a single cancel leaves it (no worker ran since).
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
      ];
    };
    const single = await shape(ids[0]!);
    for (const sagaId of ids.slice(2)) assert.deepEqual(await shape(sagaId), single, sagaId);
    const audit = await ctx.db.execute<{ target: string; before: unknown; after: unknown }>(sql`
      select target, before - 'interventionReason' as before,
        after - 'operationId' - 'interventionReason' as after from audit_log
      where action = 'saga.cancel' and target = any(${`{${ids.join(',')}}`}::text[])
        and (after->>'operationId' = ${operationId} or target = ${ids[0]!})`);
    assert.equal(audit.length, 5, 'four entries of the operation, one of the single cancel');
    const reference = audit.find((a) => a.target === ids[0]);
    for (const a of audit)
      assert.deepEqual([a.before, a.after], [reference?.before, reference?.after]);
    // The compensations it queued wait behind new sagas' steps; a single cancel's do not.
    const priorities = await ctx.db.execute<{ saga_id: string; priority: number }>(sql`
      select payload->>'sagaId' as saga_id, priority from graphile_worker._private_jobs
      where payload->>'sagaId' = any(${`{${ids.join(',')}}`}::text[])`);
    assert.equal(priorities.length, 6);
    for (const p of priorities)
      assert.equal(p.priority, ids.slice(0, 2).includes(p.saga_id) ? 0 : FOLLOW_UP_PRIORITY);
    await withWorker(() => waitForSettled(ctx.db, 60_000));
    assert.equal(
      await count(sql`select count(*)::int as n from order_fulfillment_sagas
        where state = 'CANCELLED' and saga_id = any(${`{${ids.join(',')}}`}::uuid[])`),
      6,
    );
  });

  test('a batch that fails as a whole is taken one saga at a time: only the saga at fault is left out', async () => {
    const { ids, operationId } = await flaggedAndCancelled(3, 'dup');
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
  test('an operation runs its own follow-up work: none of it waits in the queue, new sagas go through meanwhile', async () => {
    await withWorker(() => waitForSettled(ctx.db, 60_000));
    const ids = await flaggedAtShipment(
      40,
      (o) => `initiate-shipment failed after 2 attempts: lanes ${o}`,
    );
    const answer = await startBulkOperation(
      ctx.db,
      { action: 'cancel', filter: { sagaIds: ids }, reason: 'carrier gone' },
      operator,
    );
    assert.ok(!answer.dryRun);
    const due = sql`select count(*)::int as n from graphile_worker._private_jobs
      where priority = ${FOLLOW_UP_PRIORITY} and is_available`;
    const running = async () =>
      (await getBulkOperation(ctx.db, answer.operationId))?.status === 'running';
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
    // Not starved: every new saga finished before the operation's last compensation did.
    const [order] = await ctx.db.execute<{ last_new: number; last_compensation: number }>(sql`
      select
        (select max(position) from events where stream_id = any(${`{${newSagas.map((id) => `order_fulfillment_saga-${id}`).join(',')}}`}::text[])) as last_new,
        (select max(position) from events where type = 'order_fulfillment_saga.compensation_recorded'
          and metadata->>'correlationId' = any(${`{${ids.join(',')}}`}::text[])) as last_compensation`);
    assert.ok(Number(order!.last_new) < Number(order!.last_compensation), 'new sagas went first');
    for (const sagaId of newSagas)
      assert.equal((await getSagaRow(ctx.db, sagaId)).state, 'COMPLETED');
  });

  test('follow-up jobs left by a run that died are released by the sweeper and run once', async () => {
    await withWorker(() => waitForSettled(ctx.db, 60_000));
    const { ids, operationId } = await flaggedAndCancelled(10, 'died');
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
        where type = 'order_fulfillment_saga.compensation_recorded'
          and metadata->>'correlationId' = any(${`{${ids.join(',')}}`}::text[])`),
      30,
      'three compensations per saga, once each',
    );
    assert.equal((await getBulkOperation(ctx.db, operationId))?.status, 'done');
  });
});
