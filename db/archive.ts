import { eq, or, sql, type SQL } from 'drizzle-orm';
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
  /** The saga row's version when it was taken out. */
  version: number;
  events: number;
  rows: Record<SagaRowTable, number>;
  /** PostgreSQL's text form (to the microsecond). */
  startedAt: string;
  completedAt: string;
  /** The ArchivedSagaRecord, as JSON text straight from PostgreSQL: written to the file as is. */
  line: string;
}

export interface TakenBatch {
  /** The archived sagas, oldest first. */
  lines: ArchiveLine[];
  /** Active reservations' quantities by SKU, for settleHeldStock. */
  held: Record<string, number>;
}

/** The column that ties a table's rows to their saga, each covered by a unique index. */
const SAGA_KEY: Record<SagaRowTable, 'saga_id' | 'order_id'> = {
  order_fulfillment_sagas: 'saga_id',
  orders: 'saga_id',
  // These two have no index on saga_id; their order_id is unique (one per order).
  prescriptions: 'order_id',
  inventory_reservations: 'saga_id',
  shipments: 'order_id',
};

class ArchiveConflict extends Error {}

/**
 * The sagas a batch looks at: the next `limit` that started before the cutoff, after `after`, in
 * the order of sagas_started_at_idx, each with whether it may be archived (finished before the
 * cutoff too). A range scan of the index read backward (tested with EXPLAIN): it costs the
 * sagas it returns, however many lie beyond.
 */
export function archiveScan(hotDays: number, limit: number, after: ArchiveCursor | null): SQL {
  const cutoff = sql`now() - make_interval(days => ${hotDays})`;
  return sql`
    select s.saga_id, s.started_at::text, s.version,
      saga_state_is_terminal(s.state) and s.completed_at < ${cutoff} as archivable
    from order_fulfillment_sagas s
    where s.started_at < ${cutoff}
      ${after ? sql`and (s.started_at, s.saga_id) > (${after.startedAt}::timestamptz, ${after.sagaId}::uuid)` : sql``}
    -- The index is (started_at desc nulls last, saga_id desc nulls last): read backward it gives
    -- ascending order with nulls FIRST, which the order must say (the columns are never null,
    -- but otherwise the planner sorts the table instead). s.started_at is the column, not the
    -- text of the same name above.
    order by s.started_at nulls first, s.saga_id nulls first limit ${limit}`;
}

export interface ScannedBatch {
  /** The sagas to take, with the version each had when scanned. */
  sagas: { sagaId: string; version: number }[];
  /** Where the next batch starts; null when no saga older than the cutoff is left after this one. */
  next: ArchiveCursor | null;
}

/**
 * The next batch: the next `limit` finished sagas after `after` that started and finished before
 * the cutoff (an old saga still in flight stays), found by walking sagas_started_at_idx over twice
 * as many sagas as it takes (archiveScan). `run` runs the scan's query (any connection: the take
 * checks each saga's version again under its lock).
 */
export async function scanArchiveBatch(
  run: (
    query: SQL,
  ) => Promise<{ saga_id: string; started_at: string; version: number; archivable: boolean }[]>,
  hotDays: number,
  limit: number,
  after: ArchiveCursor | null,
): Promise<ScannedBatch> {
  const scanned = await run(archiveScan(hotDays, 2 * limit, after));
  const chosen = scanned.filter((r) => r.archivable).slice(0, limit);
  // On from the last saga taken when the batch is full, else from the last one looked at.
  const last = chosen.length === limit ? chosen.at(-1) : scanned.at(-1);
  const next =
    chosen.length < limit && scanned.length < 2 * limit
      ? null
      : { startedAt: last!.started_at, sagaId: last!.saga_id };
  return { sagas: chosen.map((r) => ({ sagaId: r.saga_id, version: r.version })), next };
}

/**
 * Takes a batch of archivable sagas (scanArchiveBatch) out of the hot tables, in the caller's
 * transaction, and answers them as archive lines: each saga's rows and events are deleted and
 * returned by one statement (`DELETE … RETURNING`), so they are found once, and what the file
 * holds is exactly what was deleted. Nothing is final until the caller commits, which it does
 * only once the file is written and verified (jobs/archive-history.ts); a failure anywhere
 * before rolls the deletes back. The same statement adds the catalogue rows (`archiveFile`) and
 * sums the stock the sagas still held (settleHeldStock moves it just before the commit).
 *
 * Each saga is locked and must still be finished, old enough and the version that was scanned:
 * otherwise it throws, and the whole batch is left for the next run.
 */
export async function takeArchiveBatch(
  tx: Tx,
  hotDays: number,
  chosen: ScannedBatch['sagas'],
  archiveFile: string,
): Promise<TakenBatch> {
  const cutoff = sql`now() - make_interval(days => ${hotDays})`;
  if (chosen.length === 0) return { lines: [], held: {} };
  await keepRollups(tx);
  // The statement's CTEs hold the batch's rows (≈ 10 MB): in memory, not in temporary files.
  await tx.execute(sql`select set_config('work_mem', '64MB', true)`);

  const keyed = (t: SagaRowTable) =>
    sql`x.${sql.identifier(SAGA_KEY[t])} = any(array(select ${sql.identifier(SAGA_KEY[t])} from batch))`;
  const deletes = sql.join(
    SAGA_ROW_TABLES.map(
      (t, i) => sql`${sql.identifier(`d${i}`)} as (
        delete from ${sql.identifier(t)} x where ${keyed(t)} returning x.saga_id, x)`,
    ),
    sql`, `,
  );
  const grouped = sql.join(
    SAGA_ROW_TABLES.map(
      (_, i) => sql`${sql.identifier(`g${i}`)} as (
        select saga_id, count(*)::int as n, array_to_json(array_agg(x)) as j
        from ${sql.identifier(`d${i}`)} group by saga_id)`,
    ),
    sql`, `,
  );
  const joins = sql.join(
    SAGA_ROW_TABLES.map(
      (_, i) =>
        sql`left join ${sql.identifier(`g${i}`)} on ${sql.identifier(`g${i}`)}.saga_id = b.saga_id`,
    ),
    sql` `,
  );
  const g = (i: number, col: 'n' | 'j') => sql`${sql.identifier(`g${i}`)}.${sql.identifier(col)}`;
  const counts = sql.join(
    SAGA_ROW_TABLES.map((t, i) => sql`${t}::text, coalesce(${g(i, 'n')}, 0)`),
    sql`, `,
  );
  const tables = sql.join(
    SAGA_ROW_TABLES.map((t, i) => sql`${t}::text, coalesce(${g(i, 'j')}, '[]'::json)`),
    sql`, `,
  );
  const reservations = SAGA_ROW_TABLES.indexOf('inventory_reservations');
  const rows = await tx.execute<{
    saga_id: string;
    version: number;
    same: boolean;
    events: number;
    rows: Record<SagaRowTable, number>;
    started_at: string;
    completed_at: string;
    line: string;
    held: Record<string, number>;
  }>(sql`
    with batch as materialized (
      select x.saga_id, x.order_id, x.started_at, x.completed_at, x.state, x.compensations_done,
        x.needs_intervention, x.version, x.version = c.version as same
      from order_fulfillment_sagas x
      join unnest(${sql.param(chosen.map((r) => r.sagaId))}::uuid[], ${sql.param(chosen.map((r) => r.version))}::int[])
        as c(saga_id, version) on c.saga_id = x.saga_id
      where saga_state_is_terminal(x.state) and x.completed_at < ${cutoff}
      for update of x
    ),
    ev as (
      delete from events x using batch b
      where x.saga_month = saga_month(b.started_at)
        and x.stream_id in (${SAGA_PREFIX} || b.saga_id::text, ${ORDER_PREFIX} || b.order_id)
      returning b.saga_id, x
    ),
    ge as (
      select saga_id, count(*)::int as n, array_to_json(array_agg(x order by (x).position)) as j
      from ev group by saga_id
    ),
    ${deletes},
    ${grouped},
    -- The stock the sagas still held, by SKU (settled by settleHeldStock just before commit).
    held as (
      select coalesce(json_object_agg(sku, q), '{}'::json) as j
      from (select (x).sku, sum((x).quantity)::int as q from ${sql.identifier(`d${reservations}`)}
            where (x).status = 'active' group by 1) r
    ),
    catalogue as (
      insert into archived_sagas (saga_id, order_id, state, started_at, completed_at, compensated,
        needs_intervention, events, archive_file)
      select b.saga_id, b.order_id, b.state, b.started_at, b.completed_at,
        cardinality(b.compensations_done) > 0, b.needs_intervention, coalesce(ge.n, 0), ${archiveFile}
      from batch b left join ge on ge.saga_id = b.saga_id
      returning 1
    )
    select b.saga_id, b.version, b.same, coalesce(ge.n, 0) as events, (select j from held) as held,
      json_build_object(${counts}) as rows, b.started_at::text, b.completed_at::text,
      -- array_to_json writes no line break between elements: a saga stays one line.
      json_build_object('sagaId', b.saga_id, 'rows', json_build_object(${tables}),
        'events', coalesce(ge.j, '[]'::json))::text as line
    -- catalogue runs to completion unread, as every data-modifying WITH does.
    from batch b left join ge on ge.saga_id = b.saga_id ${joins}`);
  for (const r of rows) {
    if (!r.same) throw new ArchiveConflict(`saga ${r.saga_id} changed while it was being archived`);
    if (r.rows.order_fulfillment_sagas !== 1 || r.events === 0)
      throw new ArchiveConflict(
        `saga ${r.saga_id}: ${r.events} events and ${r.rows.order_fulfillment_sagas} saga rows taken`,
      );
  }
  if (rows.length !== chosen.length)
    throw new ArchiveConflict(
      `${chosen.length - rows.length} of ${chosen.length} sagas changed while they were being archived`,
    );
  const lines = rows
    .map((r) => ({
      sagaId: r.saga_id,
      version: r.version,
      events: r.events,
      rows: r.rows,
      startedAt: r.started_at,
      completedAt: r.completed_at,
      line: r.line,
    }))
    // The order the batch was scanned in (PostgreSQL's text form of timestamptz in one session's
    // zone sorts as time does; then the saga id, as uuid order is its text's).
    .sort((a, b) =>
      a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.sagaId < b.sagaId ? -1 : 1,
    );
  return { lines, held: rows[0]?.held ?? {} };
}

/**
 * Stock a completed saga still held leaves `reserved` and `on_hand` together (moveHeldStock), for
 * a batch taken by takeArchiveBatch: run just before its commit, so the archiver holds the
 * inventory rows (which every reservation updates) for no longer than that.
 */
export async function settleHeldStock(tx: Tx, held: Record<string, number>): Promise<void> {
  if (Object.keys(held).length === 0) return;
  await moveHeldStock(
    tx,
    sql`select key as sku, value::int as q from json_each_text(${JSON.stringify(held)}::json)`,
    -1,
  );
}

/** Triggers that maintain the stats rollups leave them alone in this transaction (0005). */
const keepRollups = (tx: Tx) => tx.execute(sql`select set_config('rxsaga.rollups', 'off', true)`);

/**
 * Stock a saga still holds (a completed order's reservation: goods that were shipped) leaves
 * `reserved` and `on_hand` together, so `available` does not change and `reserved` stays the sum
 * of the active reservations in the hot tables: an archive takes it out (sign -1,
 * settleHeldStock), a restore puts it back (sign +1). `held`: a query of (sku, q) rows, one per SKU.
 */
async function moveHeldStock(tx: Tx, held: SQL, sign: 1 | -1): Promise<void> {
  await tx.execute(sql`
    update inventory_items i
    set reserved = i.reserved + ${sign} * h.q, on_hand = i.on_hand + ${sign} * h.q, updated_at = now()
    from (${held}) h
    where i.sku = h.sku`);
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
  await moveHeldStock(
    tx,
    sql`select sku, sum(quantity)::int as q from inventory_reservations
      where saga_id = any(${sql.param(ids)}::uuid[]) and status = 'active' group by sku`,
    1,
  );
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
