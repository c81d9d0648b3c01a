import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { setFaultSetting } from '@/db/faults';
import { createOrder } from '@/server/commands/create-order';
import { TASKS } from '@/lib/saga/model';
import {
  jobCount,
  orderInput,
  reservationMismatches,
  spawnWorkerProcess,
  streamsWithGaps,
  useSagaTestDatabase,
  waitFor,
  waitForSettled,
  withPostalCode,
} from '@/test/saga-harness';

const ctx = useSagaTestDatabase();

const spawnWorker = () => spawnWorkerProcess(ctx.url);

async function count(query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await ctx.db.execute<{ n: number }>(query);
  return row?.n ?? 0;
}

describe('crash recovery', () => {
  test('a worker SIGKILLed mid-step: another finishes every saga, no effect happens twice', async () => {
    // Latency inside each task's transaction makes the kill land mid-step.
    for (const task of TASKS)
      await setFaultSetting(ctx.db, { task, failureRate: 0, transientRate: 0, latencyMs: 150 });
    for (let i = 0; i < 40; i++) {
      await createOrder(
        ctx.db,
        i % 4 === 3 ? withPostalCode('00000') : orderInput({ patientId: `PAT-${i}` }),
      );
    }

    const first = spawnWorker();
    await waitFor(
      async () =>
        (await count(
          sql`select count(*)::int as n from events where type = 'order.prescription_created'`,
        )) >= 8,
      30_000,
      'progress',
    );
    await waitFor(
      async () =>
        (await count(
          sql`select count(*)::int as n from graphile_worker.jobs where locked_at is not null`,
        )) > 0,
      10_000,
      'a running job',
    );
    first.kill('SIGKILL');
    await once(first, 'exit');
    const lockedByDead = await count(
      sql`select count(*)::int as n from graphile_worker.jobs where locked_at is not null`,
    );
    assert.ok(
      lockedByDead > 0,
      'the killed worker left locked jobs behind (otherwise this test proves nothing)',
    );

    const started = Date.now();
    const second = spawnWorker();
    try {
      await waitForSettled(ctx.db, 60_000);
    } finally {
      second.kill('SIGTERM');
      await once(second, 'exit');
    }
    assert.ok(Date.now() - started < 60_000);

    const unsettled = await count(
      sql`select count(*)::int as n from order_fulfillment_sagas where not saga_state_is_terminal(state)`,
    );
    assert.equal(unsettled, 0, 'every saga finished (none needed a human)');
    const repeated = await count(sql`
      select count(*)::int as n from (
        select metadata->>'correlationId', type, payload->>'task' from events
        where type not in ('order_fulfillment_saga.state_changed', 'order_fulfillment_saga.attempt_failed')
        group by 1, 2, 3 having count(*) > 1) d`);
    assert.equal(repeated, 0, 'no step or compensation event twice in a saga');
    assert.equal(await count(sql`select count(*)::int as n from prescriptions`), 40);
    assert.equal(await count(sql`select count(*)::int as n from shipments`), 30);
    assert.deepEqual(await streamsWithGaps(ctx.db), []);
    assert.deepEqual(await reservationMismatches(ctx.db), []);
    assert.equal(await jobCount(ctx.db), 0);
    assert.equal(
      await count(sql`select count(*)::int as n from worker_heartbeats`),
      0,
      'dead pool swept, live pool left cleanly',
    );
  });
});
