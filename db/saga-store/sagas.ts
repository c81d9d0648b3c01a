import { streamKindOf, type StoredEvent } from '@/lib/saga/events';
import { evolve, expectedTask, type Saga } from '@/lib/saga/saga';
import type { DbOrTx, Tx } from '../client';
import { orderFulfillmentSagas, orders } from '../schema';
import { tableCodec, type Row } from './codec';
import { runPrepared } from './sql';

/**
 * The saga row (`order_fulfillment_sagas`) and the order row as the store reads and writes them.
 * Every column list, cast and decoder below comes from db/schema.ts through the codecs.
 */
export const sagaRows = tableCodec(orderFulfillmentSagas);
export const orderRows = tableCodec(orders);

type SagaRow = Row<typeof orderFulfillmentSagas>;
export type OrderRow = Row<typeof orders>;

/**
 * Where a saga's two streams stand, as its row records them: the version of the saga stream and
 * of the order stream (the next event of each gets version + 1; the unique (stream, version)
 * index turns a lost race into an error) and the position of the last event folded in. Storage
 * bookkeeping: the pure saga (lib/saga) knows nothing of it.
 */
export type StreamHeads = Pick<SagaRow, 'version' | 'orderVersion' | 'lastPosition'>;

/** A saga as the store read it: the saga, and where its streams stand. */
export interface StoredSaga {
  saga: Saga;
  heads: StreamHeads;
}

/** A saga with no events yet: the next event of each stream is its first. */
export const NO_EVENTS_YET: StreamHeads = { version: 0, orderVersion: 0, lastPosition: 0 };

/** Folds one stored event: the saga by the pure `evolve`, the heads by the event's stream. */
export function foldStored(stored: StoredSaga | null, event: StoredEvent): StoredSaga {
  const heads = stored?.heads ?? NO_EVENTS_YET;
  return {
    saga: evolve(stored?.saga ?? null, event),
    heads:
      streamKindOf(event.type) === 'saga'
        ? { ...heads, version: event.version, lastPosition: event.position }
        : { ...heads, orderVersion: event.version, lastPosition: event.position },
  };
}

/** The row is the saga, its heads, and what the queries look it up by: the task it waits for. */
export function sagaToRow({ saga, heads }: StoredSaga): SagaRow {
  return { ...saga, ...heads, currentTask: expectedTask(saga) };
}

export function rowToStored(row: SagaRow): StoredSaga {
  const { currentTask: _derived, version, orderVersion, lastPosition, ...saga } = row;
  return { saga: saga as Saga, heads: { version, orderVersion, lastPosition } };
}

const KEY = sagaRows.field('sagaId');
const LAST_POSITION = sagaRows.field('lastPosition');
const notKey = sagaRows.fields.filter((f) => f !== KEY);

/**
 * The saga row's two writes, their parameters numbered from `first` in codec order: the update
 * (a saga read from its row: every column but the key) and the upsert (a new saga, or one
 * rebuilt by replay). `lastPosition`: the SQL for last_position around its parameter (the
 * apply statement takes it from the events it appends).
 */
export function sagaWriteTexts(first: number, lastPosition = (param: string) => param) {
  const value = (f: (typeof sagaRows.fields)[number]) => {
    const param = `$${first + sagaRows.fields.indexOf(f)}::${f.sqlType}`;
    return f === LAST_POSITION ? lastPosition(param) : param;
  };
  return {
    stored: `update ${sagaRows.table} set ${notKey
      .map((f) => `${f.name} = ${value(f)}`)
      .join(', ')} where ${KEY.name} = ${value(KEY)}`,
    new: `insert into ${sagaRows.table} (${sagaRows.fields.map((f) => f.name).join(', ')})
  values (${sagaRows.fields.map(value).join(', ')})
  on conflict (${KEY.name}) do update set ${notKey.map((f) => `${f.name} = excluded.${f.name}`).join(', ')}`,
  };
}

const SAGA_WRITES = sagaWriteTexts(1);

/** Writes the saga row: updated when it was read from its row, upserted when new or replayed. */
export async function saveSaga(
  tx: Tx,
  saga: StoredSaga,
  stored: 'stored' | 'new' = 'new',
): Promise<void> {
  await runPrepared(tx, SAGA_WRITES[stored], sagaRows.encode(sagaToRow(saga)));
}

const LOCK_SAGA = `select ${sagaRows.selectList('s')} from ${sagaRows.table} s
  where s.${KEY.name} = $1::uuid for update`;

/** Locks the saga row for the rest of the transaction: one task or command at a time per saga. */
export async function lockSaga(tx: Tx, sagaId: string): Promise<StoredSaga | null> {
  const [row] = await runPrepared(tx, LOCK_SAGA, [sagaId]);
  return row ? rowToStored(sagaRows.decode(row)) : null;
}

const GET_SAGAS = `select ${sagaRows.selectList('s')} from ${sagaRows.table} s
  where s.${KEY.name} = any($1::uuid[])`;

/** The saga rows of these ids, as they are (replay continues from them page by page). */
export async function getSagas(db: DbOrTx, sagaIds: readonly string[]): Promise<StoredSaga[]> {
  const rows = await runPrepared(db, GET_SAGAS, [sagaIds]);
  return rows.map((r) => rowToStored(sagaRows.decode(r)));
}

const LOCK_SAGAS = `select ${sagaRows.selectList('s')} from ${sagaRows.table} s
  where s.${KEY.name} = any($1::uuid[]) order by s.${KEY.name} for update`;

/**
 * lockSaga for several sagas in one statement, in id order (two such batches that overlap take
 * their locks in the same order: they wait for each other, never deadlock). Missing ids are
 * left out of the answer.
 */
export async function lockSagas(tx: Tx, sagaIds: readonly string[]): Promise<StoredSaga[]> {
  const rows = await runPrepared(tx, LOCK_SAGAS, [sagaIds]);
  return rows.map((r) => rowToStored(sagaRows.decode(r)));
}

/** UPDATE_SAGA for many rows in one statement: the rows travel as one JSON array. */
const UPDATE_SAGAS = `update ${sagaRows.table} s set ${notKey
  .map((f) => `${f.name} = r.${f.name}`)
  .join(', ')}
  from jsonb_populate_recordset(null::${sagaRows.table}, $1::jsonb) r
  where s.${KEY.name} = r.${KEY.name}
  returning 1`;

/** The statement (not yet sent, see `pipeline`) that writes these sagas, each read from its row. */
export function updateSagas(tx: Tx, sagas: readonly StoredSaga[]): PromiseLike<unknown[]> {
  const rows = sagas.map((saga) => {
    const values = sagaRows.encode(sagaToRow(saga));
    return Object.fromEntries(sagaRows.fields.map((f, i) => [f.column, values[i]]));
  });
  return runPrepared(tx, UPDATE_SAGAS, [JSON.stringify(rows)]);
}
