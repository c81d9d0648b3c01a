import { eq, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  SAGA_ROW_TABLES,
  type ArchivedSagaRecord,
  type SagaRowTable,
} from '@/lib/archive/archive-file';
import type { ArchivedLocation } from '@/lib/errors';
import { orderStreamId, sagaMonthOf, sagaStreamId } from '@/lib/saga/events';
import type { DbOrTx, Tx } from './client';
import { archivedSagas } from './schema';

/**
 * The archive's statements. Rows travel as PostgreSQL writes them with `to_jsonb` and come back
 * through `jsonb_populate_recordset` on the same table: the row shape is the table's own, not a
 * column list written here, so a new column is archived and restored with no edit.
 */

const SAGA_PREFIX = sagaStreamId('');
const ORDER_PREFIX = orderStreamId('');

/** Finished before the cutoff. Walks sagas_started_at_idx: a saga finished then started then too. */
const archivable = (hotDays: number) => sql`
  saga_state_is_terminal(state)
  and started_at < now() - make_interval(days => ${hotDays})
  and completed_at < now() - make_interval(days => ${hotDays})`;

export async function countArchivableSagas(db: DbOrTx, hotDays: number): Promise<number> {
  const [row] = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from order_fulfillment_sagas where ${archivable(hotDays)}`);
  return row?.n ?? 0;
}

/** Where a batch ended: the next one starts after this saga (the order of sagas_started_at_idx). */
export interface ArchiveCursor {
  /** PostgreSQL's text form (to the microsecond). */
  startedAt: string;
  sagaId: string;
}

export interface ArchiveLine {
  sagaId: string;
  /** The saga row's version: the archiver deletes it only if it is still this one. */
  version: number;
  events: number;
  rows: Record<SagaRowTable, number>;
  /** PostgreSQL's text form (to the microsecond). */
  startedAt: string;
  completedAt: string;
  /** The ArchivedSagaRecord, as JSON text straight from PostgreSQL: written to the file as is. */
  line: string;
}

/** A table's rows of saga `s` as a JSON array (the row shape is the table's own), and their count. */
const rowsOf = (table: SagaRowTable) =>
  table === 'order_fulfillment_sagas'
    ? sql`select 1 as n, json_build_array(row_to_json(s)) as j`
    : sql`select count(*)::int as n, coalesce(json_agg(x), '[]'::json) as j
        from ${sql.identifier(table)} x where x.saga_id = s.saga_id`;

/**
 * The next `limit` archivable sagas after `after` (oldest first), as archive lines with what
 * each holds: one statement, set-based. Built as `json`, not `jsonb`: PostgreSQL writes the text
 * straight from the rows instead of building a binary document and printing it again, and the
 * values are the same (a restore reads either with jsonb_populate_recordset). Walking on from a
 * cursor, not from the oldest saga again, keeps a run from rescanning the index entries of the
 * sagas it has just deleted.
 */
export async function readArchiveBatch(
  db: DbOrTx,
  hotDays: number,
  limit: number,
  after: ArchiveCursor | null,
): Promise<ArchiveLine[]> {
  const laterals = sql.join(
    SAGA_ROW_TABLES.map(
      (t, i) => sql`cross join lateral (${rowsOf(t)}) ${sql.identifier(`r${i}`)}`,
    ),
    sql` `,
  );
  const counts = sql.join(
    SAGA_ROW_TABLES.map((t, i) => sql`${t}::text, ${sql.identifier(`r${i}`)}.n`),
    sql`, `,
  );
  const tables = sql.join(
    SAGA_ROW_TABLES.map((t, i) => sql`${t}::text, ${sql.identifier(`r${i}`)}.j`),
    sql`, `,
  );
  const rows = await db.execute<{
    saga_id: string;
    version: number;
    events: number;
    rows: Record<SagaRowTable, number>;
    started_at: string;
    completed_at: string;
    line: string;
  }>(sql`
    select s.saga_id, s.version, ev.n as events, json_build_object(${counts}) as rows,
      s.started_at::text, s.completed_at::text,
      -- json_agg puts a line break between elements: whitespace, as every raw line break in JSON
      -- text is (one in a string is written \\n), taken out so a saga stays one line.
      replace(json_build_object('sagaId', s.saga_id, 'rows', json_build_object(${tables}), 'events', ev.j)::text,
        E'\\n', '') as line
    from (
      select * from order_fulfillment_sagas
      where ${archivable(hotDays)}
        ${after ? sql`and (started_at, saga_id) > (${after.startedAt}::timestamptz, ${after.sagaId}::uuid)` : sql``}
      order by started_at, saga_id limit ${limit}
    ) s
    ${laterals}
    cross join lateral (
      select count(*)::int as n, coalesce(json_agg(e order by e.position), '[]'::json) as j
      from events e
      where e.saga_month = saga_month(s.started_at)
        and e.stream_id in (${SAGA_PREFIX} || s.saga_id::text, ${ORDER_PREFIX} || s.order_id)
    ) ev
    order by s.started_at, s.saga_id`);
  return rows.map((r) => ({
    sagaId: r.saga_id,
    version: r.version,
    events: r.events,
    rows: r.rows,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    line: r.line,
  }));
}

/** Triggers that maintain the stats rollups leave them alone in this transaction (0005). */
const keepRollups = (tx: Tx) => tx.execute(sql`select set_config('rxsaga.rollups', 'off', true)`);

/**
 * Stock a saga still holds (a completed order's reservation: goods that were shipped) leaves
 * `reserved` and `on_hand` together, so `available` does not change and `reserved` stays the sum
 * of the active reservations in the hot tables. A restore puts both back (sign +1).
 */
async function moveHeldStock(tx: Tx, sagaIds: readonly string[], sign: 1 | -1): Promise<void> {
  await tx.execute(sql`
    update inventory_items i
    set reserved = i.reserved + ${sign} * r.q, on_hand = i.on_hand + ${sign} * r.q, updated_at = now()
    from (select sku, sum(quantity)::int as q from inventory_reservations
          where saga_id = any(${sql.param(sagaIds as string[])}::uuid[]) and status = 'active' group by sku) r
    where i.sku = r.sku`);
}

class ArchiveConflict extends Error {}

/**
 * Replaces the hot rows of archived sagas by their catalogue rows, in the caller's transaction.
 * Each saga must still be the version that was written out (a saga that changed since, say
 * restored and retried, is left for the next run): otherwise it throws and nothing is deleted.
 */
export async function removeArchivedSagas(
  tx: Tx,
  archived: readonly { sagaId: string; version: number; events: number }[],
  archiveFile: string,
): Promise<void> {
  const ids = archived.map((a) => a.sagaId);
  await keepRollups(tx);
  const locked = await tx.execute<{ saga_id: string; version: number }>(sql`
    select saga_id, version from order_fulfillment_sagas
    where saga_id = any(${sql.param(ids)}::uuid[]) and saga_state_is_terminal(state)
    order by saga_id for update`);
  const versions = new Map(locked.map((r) => [r.saga_id, r.version]));
  for (const a of archived)
    if (versions.get(a.sagaId) !== a.version)
      throw new ArchiveConflict(`saga ${a.sagaId} changed while it was being archived`);

  await tx.execute(sql`
    insert into archived_sagas (saga_id, order_id, state, started_at, completed_at, compensated,
      needs_intervention, events, archive_file)
    select s.saga_id, s.order_id, s.state, s.started_at, s.completed_at,
      cardinality(s.compensations_done) > 0, s.needs_intervention, c.n, ${archiveFile}
    from order_fulfillment_sagas s
    join unnest(${sql.param(ids)}::uuid[], ${sql.param(archived.map((a) => a.events))}::int[]) as c(id, n) on c.id = s.saga_id`);
  await moveHeldStock(tx, ids, -1);
  const [deleted] = await tx.execute<{ n: number }>(sql`
    with gone as (
      delete from events e using order_fulfillment_sagas s
      where s.saga_id = any(${sql.param(ids)}::uuid[])
        and e.saga_month = saga_month(s.started_at)
        and e.stream_id in (${SAGA_PREFIX} || s.saga_id::text, ${ORDER_PREFIX} || s.order_id)
      returning 1)
    select count(*)::int as n from gone`);
  const expected = archived.reduce((n, a) => n + a.events, 0);
  if (deleted?.n !== expected)
    throw new ArchiveConflict(`${deleted?.n} events to delete, the archive holds ${expected}`);
  // The saga row last: the others are found through it above.
  for (const table of [...SAGA_ROW_TABLES].reverse())
    await tx.execute(
      sql`delete from ${sql.identifier(table)} where saga_id = any(${sql.param(ids)}::uuid[])`,
    );
}

/**
 * Puts archived sagas back into the hot tables exactly as they were (events at their original
 * positions), in the caller's transaction, and takes them out of the catalogue. Sagas already in
 * the hot tables are skipped; returns the ids restored.
 */
export async function restoreSagaRecords(
  tx: Tx,
  records: readonly ArchivedSagaRecord[],
): Promise<string[]> {
  const present = new Set(
    (
      await tx.execute<{ saga_id: string }>(sql`
        select saga_id from order_fulfillment_sagas
        where saga_id = any(${sql.param(records.map((r) => r.sagaId))}::uuid[])`)
    ).map((r) => r.saga_id),
  );
  const todo = records.filter((r) => !present.has(r.sagaId));
  if (todo.length === 0) return [];
  await keepRollups(tx);
  const insert = async (table: 'events' | SagaRowTable, rows: unknown[]) => {
    if (rows.length === 0) return;
    await tx.execute(sql`
      insert into ${sql.identifier(table)} ${table === 'events' ? sql`overriding system value` : sql``}
      select * from jsonb_populate_recordset(null::${sql.identifier(table)}, ${JSON.stringify(rows)}::jsonb)`);
  };
  for (const table of SAGA_ROW_TABLES)
    await insert(
      table,
      todo.flatMap((r) => r.rows[table]),
    );
  // Files written before the store was partitioned (0011) lack the events' saga_month: it is
  // the month the saga started, which its row holds.
  await insert(
    'events',
    todo.flatMap((r) => {
      const sagaMonth = sagaMonthOf(
        new Date(String(r.rows.order_fulfillment_sagas[0]?.started_at)),
      );
      return r.events.map((e) => ({ saga_month: sagaMonth, ...e }));
    }),
  );
  const ids = todo.map((r) => r.sagaId);
  await moveHeldStock(tx, ids, 1);
  await tx.execute(sql`delete from archived_sagas where saga_id = any(${sql.param(ids)}::uuid[])`);
  return ids;
}

/**
 * Where an archived saga went, by saga id or order id (what the API routes and the dashboard's
 * search take); null when no archived saga has that id.
 */
export async function findArchivedSaga(db: DbOrTx, id: string): Promise<ArchivedLocation | null> {
  const bySagaId = z.uuid().safeParse(id).success ? eq(archivedSagas.sagaId, id) : undefined;
  const [row] = await db
    .select()
    .from(archivedSagas)
    .where(or(bySagaId, eq(archivedSagas.orderId, id)))
    .limit(1);
  return row
    ? {
        sagaId: row.sagaId,
        orderId: row.orderId,
        state: row.state,
        startedAt: row.startedAt.toISOString(),
        completedAt: row.completedAt.toISOString(),
        archiveFile: row.archiveFile,
        archivedAt: row.archivedAt.toISOString(),
      }
    : null;
}
