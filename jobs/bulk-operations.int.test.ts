import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { applyDecision, lockSaga } from '@/db/saga-store';
import { getBulkOperation } from '@/db/bulk-operations';
import { listFailureGroups } from '@/db/queries/failure-groups';
import { cancelBulkOperation, startBulkOperation } from '@/server/commands/bulk-operation';
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
} from '@/test/saga-harness';
import { runBulkBatch, runBulkOperation } from './run-bulk-operation';

const ctx = useSagaTestDatabase({ RXSAGA_MAX_ATTEMPTS: '2' });
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
    assert.equal(await runBulkBatch(answer.operationId, 50), 'processed');
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
      while ((await runBulkBatch(answer.operationId, 7)) === 'processed');
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
});
