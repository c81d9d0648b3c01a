import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate as drizzleMigrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { getSagaDetail } from '@/db/queries/sagas';
import { ensureEventPartitions, listEventPartitions } from '@/db/partitions';
import { migrate } from '@/db/migrate';
import * as schema from '@/db/schema';
import { appendEvents, readSagaEvents } from '@/db/saga-store';
import { sagaMonthOf } from '@/lib/saga/events';
import { createOrder } from '@/server/commands/create-order';
import { orderInput, useSagaTestDatabase, waitForSettled, withWorker } from '@/test/saga-harness';

const ctx = useSagaTestDatabase();

/** `YYYY-MM-01` of the month `n` months after the database's current one. */
async function monthFromNow(n: number): Promise<string> {
  const [row] = await ctx.db.execute<{ m: string }>(
    sql`select (saga_month(now()) + make_interval(months => ${n}))::date::text as m`,
  );
  return row!.m;
}

const partitionName = (month: string) => `events_${month.slice(0, 4)}m${month.slice(5, 7)}`;

describe('event store partitions', () => {
  test('partitions exist ahead of time: this month and the next three, and a default one', async () => {
    const names = (await listEventPartitions(ctx.db)).map((p) => p.name);
    for (let n = 0; n <= 3; n++) {
      const name = partitionName(await monthFromNow(n));
      assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    }
    assert.ok(names.includes('events_default'));
  });

  test('a worker creates missing partitions when it starts', async () => {
    const coming = [partitionName(await monthFromNow(2)), partitionName(await monthFromNow(3))];
    for (const name of coming) await ctx.db.execute(sql`drop table ${sql.identifier(name)}`);
    await withWorker(async () => {
      const names = (await listEventPartitions(ctx.db)).map((p) => p.name);
      for (const name of coming) assert.ok(names.includes(name), `${name} recreated`);
    });
    assert.equal(await ensureEventPartitions(ctx.db), 0, 'nothing left to create');
  });

  test('an event of a far-future saga is stored (default partition), then moves into its month when that is created', async () => {
    const farFuture = new Date('2099-05-03T10:00:00.123Z');
    const saga = { sagaId: '00000000-0000-4000-8000-00000000f00d', orderId: 'ORD-FAR-FUTURE' };
    await ctx.db.transaction((tx) =>
      appendEvents(
        tx,
        { ...saga, heads: { version: 0, orderVersion: 0 }, startedAt: farFuture },
        [
          {
            type: 'order_fulfillment_saga.attempt_failed',
            payload: {
              task: 'create-prescription',
              attempt: 1,
              maxAttempts: 3,
              error: 'test',
              retryAt: farFuture.toISOString(),
            },
          },
        ],
        { causationId: null },
      ),
    );
    const inDefault = await ctx.db.execute<{ saga_month: string }>(
      sql`select saga_month::text from events_default`,
    );
    assert.deepEqual([...inDefault], [{ saga_month: '2099-05-01' }]);
    const read = async () =>
      (await readSagaEvents(ctx.db, { ...saga, startedAt: farFuture })).map((e) => e.type);
    assert.deepEqual(await read(), ['order_fulfillment_saga.attempt_failed']);

    await ctx.db.execute(sql`select create_event_partition('2099-05-01')`);
    const partitions = await listEventPartitions(ctx.db);
    assert.deepEqual(
      partitions.filter((p) => p.name === 'events_default' || p.name === 'events_2099m05'),
      [
        { name: 'events_2099m05', from: '2099-05-01', to: '2099-06-01', events: 1 },
        { name: 'events_default', from: null, to: null, events: 0 },
      ],
    );
    assert.deepEqual(await read(), ['order_fulfillment_saga.attempt_failed']);
  });

  test("a saga's timeline is read from its partition only (EXPLAIN of the detail's query)", async () => {
    const { sagaId } = await createOrder(ctx.db, orderInput());
    await withWorker(() => waitForSettled(ctx.db));
    const captured: { query: string; params: unknown[] }[] = [];
    const client = postgres(ctx.url, {
      max: 1,
      onnotice: () => {},
      debug: (_c, query, params) => captured.push({ query, params: params as unknown[] }),
    });
    try {
      const detail = await getSagaDetail(drizzle(client, { schema }), sagaId);
      assert.ok(detail && detail.events.length >= 8, 'the detail has the timeline');
      const query = captured.find((c) => /from "events"/.test(c.query));
      assert.ok(query, 'the detail reads the event table');
      const plan = (
        await client.unsafe<{ 'QUERY PLAN': string }[]>(
          `explain ${query.query}`,
          query.params as never[],
        )
      )
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      const scanned = [...new Set(plan.match(/\bevents_[0-9a-z_]+/g) ?? [])].filter((n) =>
        /^events_(\d{4}m\d\d|default)/.test(n),
      );
      const own = partitionName(sagaMonthOf(new Date(detail.startedAt)));
      assert.ok(
        scanned.length > 0 && scanned.every((n) => n.startsWith(own)),
        `only ${own}: ${plan}`,
      );
    } finally {
      await client.end({ timeout: 5 });
    }
  });
});

describe('migrating a store that was not partitioned', () => {
  const adminUrl = process.env.RXSAGA_TEST_ADMIN_URL!;
  const name = `rxsaga_test_unpartitioned_${process.pid}`;
  const url = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
  const scratch = mkdtemp(path.join(tmpdir(), 'rxsaga-migrations-'));
  after(async () => {
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end({ timeout: 5 });
    await rm(await scratch, { recursive: true, force: true });
  });

  test('every event is copied with its position into its saga’s month; positions go on', async () => {
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    await admin.end({ timeout: 5 });
    // The migrations as they stood before 0011: the same folder, its journal cut there.
    const folder = path.join(await scratch, 'migrations');
    const source = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
    await cp(source, folder, { recursive: true });
    const journalFile = path.join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(await readFile(journalFile, 'utf8')) as {
      entries: { tag: string }[];
    };
    const cut = journal.entries.findIndex((e) => e.tag === '0011_events_partitioned');
    assert.ok(cut > 0);
    journal.entries = journal.entries.slice(0, cut);
    await writeFile(journalFile, JSON.stringify(journal));

    const client = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await drizzleMigrate(drizzle(client), { migrationsFolder: folder });
      // Two sagas, one started in March 2025 and one now, and an event whose saga row is gone.
      await client.unsafe(`
        insert into order_fulfillment_sagas (saga_id, order_id, patient_id, state, completed_steps, compensations_done,
          started_at, updated_at, version, order_version, last_position)
        values ('00000000-0000-4000-8000-000000000001', 'ORD-OLD', 'PAT-1', 'COMPLETED', '{}', '{}',
                '2025-03-31 23:59:59.5+00', '2025-04-01 00:00:03+00', 2, 1, 0),
               ('00000000-0000-4000-8000-000000000002', 'ORD-NEW', 'PAT-1', 'PENDING_PRESCRIPTION', '{}', '{}',
                now(), now(), 1, 1, 0);
        insert into events (stream_id, version, type, payload, metadata, idempotency_key, recorded_at) values
          ('order-ORD-OLD', 1, 'order.created', '{}', '{"correlationId": "00000000-0000-4000-8000-000000000001"}', 'k1', '2025-03-31 23:59:59.5+00'),
          ('order_fulfillment_saga-00000000-0000-4000-8000-000000000001', 1, 'order_fulfillment_saga.started', '{}',
            '{"correlationId": "00000000-0000-4000-8000-000000000001"}', 'k2', '2025-03-31 23:59:59.5+00'),
          ('order_fulfillment_saga-00000000-0000-4000-8000-000000000001', 2, 'order_fulfillment_saga.completed', '{}',
            '{"correlationId": "00000000-0000-4000-8000-000000000001"}', null, '2025-04-01 00:00:03+00'),
          ('order-ORD-GONE', 1, 'order.created', '{}', '{"correlationId": "00000000-0000-4000-8000-000000000003"}', 'k4', '2024-07-04 12:00+00'),
          ('order-ORD-NEW', 1, 'order.created', '{}', '{"correlationId": "00000000-0000-4000-8000-000000000002"}', 'k3', now());
        delete from events where idempotency_key = 'k3';`);
      const before = await client<{ position: string; stream_id: string }[]>`
        select position::text, stream_id from events order by position`;

      await migrate(url);

      const afterRows = await client<
        { position: string; stream_id: string; saga_month: string; partition: string }[]
      >`select position::text, stream_id, saga_month::text, tableoid::regclass::text as partition
        from events order by position`;
      assert.deepEqual(
        afterRows.map((r) => ({ position: r.position, stream_id: r.stream_id })),
        [...before],
        'the same events at the same positions',
      );
      const thisMonth = sagaMonthOf(new Date());
      assert.deepEqual(
        afterRows.map((r) => [r.saga_month, r.partition]),
        [
          ['2025-03-01', 'events_2025m03'],
          ['2025-03-01', 'events_2025m03'],
          // Recorded in April, but its saga started in March: one partition per saga.
          ['2025-03-01', 'events_2025m03'],
          ['2024-07-01', 'events_2024m07'],
        ],
      );
      // The next append takes the old sequence's next position (not the deleted last event's).
      const [next] = await client<{ position: string; partition: string }[]>`
        insert into events (saga_month, stream_id, version, type, payload, metadata)
        values (saga_month(now()), 'order-ORD-NEW', 1, 'order.created', '{}', '{"correlationId": "00000000-0000-4000-8000-000000000002"}')
        returning position::text, tableoid::regclass::text as partition`;
      assert.deepEqual(next, { position: '6', partition: partitionName(thisMonth) });
    } finally {
      await client.end({ timeout: 5 });
    }
  });
});
