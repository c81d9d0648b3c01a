import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import {
  orderStreamId,
  parseEventPayload,
  sagaStreamId,
  streamKindOf,
  type EventMetadata,
  type NewEvent,
  type StoredEvent,
} from '@/lib/saga/events';
import { LIVE_CHANNEL } from '@/lib/live/channel';
import type { Tx, DbOrTx } from '../client';
import { events } from '../schema';
import { tableCodec, type Row } from './codec';
import type { StreamHeads } from './sagas';
import { runPrepared } from './sql';

export const eventRows = tableCodec(events);

/** The saga's two streams, and where they stand (the next event of each gets version + 1). */
export interface AppendTarget {
  sagaId: string;
  orderId: string;
  heads: Pick<StreamHeads, 'version' | 'orderVersion'>;
  /** The saga's start (its events' partition, see schema.ts); null for a new saga: now. */
  startedAt: Date | null;
}

/**
 * A repeated append (same idempotency key): the whole decision was applied before. It is the
 * unique violation of the append itself (events_idempotency_key), so the statement, and the
 * transaction with everything sent behind it, fails: nothing of a repeat can commit.
 */
export class DuplicateAppendError extends Error {
  constructor(
    readonly keys: string[],
    options?: { cause: unknown },
  ) {
    super(`events already appended: ${keys.join(', ')}`, options);
  }
}

const KEY_COLUMN = eventRows.field('idempotencyKey').column;
const MONTH_COLUMN = eventRows.field('sagaMonth').column;
const col = (key: keyof Row<typeof events>) => eventRows.field(key).name;

/**
 * The append's unique violation on the idempotency key as DuplicateAppendError (any other error
 * as it is). Each partition has its own copy of the index under a generated name, so the key
 * columns in the error's detail tell it apart from the (stream, version) index: a lost race.
 */
export function asDuplicateAppend(error: unknown): unknown {
  const e = error as { code?: unknown; detail?: unknown };
  const prefix = `Key (${KEY_COLUMN}, ${MONTH_COLUMN})=(`;
  if (e?.code !== '23505' || typeof e.detail !== 'string' || !e.detail.startsWith(prefix))
    return error;
  const values = e.detail.slice(prefix.length, e.detail.lastIndexOf(') already exists'));
  return new DuplicateAppendError([values.slice(0, values.lastIndexOf(', '))], { cause: error });
}

/**
 * The append as two CTEs (`appended`: the new rows, `notified`), its parameters (appendParams)
 * numbered from `first`, for a statement to carry. unnest keeps the events' order, and identity
 * positions are assigned in that order. The live dashboard's NOTIFY (one per append, naming
 * the saga, the new types and the last position) is delivered only if the transaction commits;
 * the statement must select from `notified` (a CTE that only reads runs only when referenced).
 */
export function appendCtes(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `appended as (
    insert into ${eventRows.table} (${col('sagaMonth')}, ${col('streamId')}, ${col('version')},
      ${col('type')}, ${col('payload')}, ${col('metadata')}, ${col('idempotencyKey')})
    select saga_month(coalesce(${p(8)}::timestamptz, now())), stream_id, version, type, payload,
      ${p(2)}::jsonb, idempotency_key
    from unnest(${p(3)}::text[], ${p(4)}::int[], ${p(5)}::text[], ${p(6)}::jsonb[], ${p(7)}::text[])
      as e(stream_id, version, type, payload, idempotency_key)
    returning ${eventRows.fields.map((f) => f.name).join(', ')}
  ), notified as (
    select pg_notify(${p(0)}::text, json_build_object('sagaId', ${p(1)}::text,
      'types', json_agg(${col('type')} order by ${col('position')}),
      'position', max(${col('position')}))::text)
    from appended
  )`;
}

/**
 * The parameters of appendCtes, in order: one saga's new events on its two streams (or those
 * events as `versionEvents` gave them, validated and versioned once for the append and its fold).
 */
export function appendParams(
  target: AppendTarget,
  newEvents: readonly NewEvent[] | VersionedEvents,
  metadata: Omit<EventMetadata, 'correlationId'>,
): unknown[] {
  const c = eventColumns();
  addVersioned(c, asVersioned(target, newEvents));
  return [
    LIVE_CHANNEL,
    target.sagaId,
    JSON.stringify({ correlationId: target.sagaId, ...metadata }),
    c.streamIds,
    c.versions,
    c.types,
    c.payloads,
    c.keys,
    target.startedAt?.toISOString() ?? null,
  ];
}

const APPEND_EVENTS = `with ${appendCtes(1)} select appended.* from appended, notified`;

/**
 * Appends events to a saga's two streams with the next versions. The unique
 * (stream_id, version) index turns a lost race into an error instead of a fork, and a unique
 * idempotency key turns a repeat into DuplicateAppendError (the caller rolls back: a no-op).
 * applyDecision carries the same append in its one statement; this is the append alone.
 */
export async function appendEvents(
  tx: Tx,
  target: AppendTarget,
  newEvents: readonly NewEvent[],
  metadata: Omit<EventMetadata, 'correlationId'>,
): Promise<StoredEvent[]> {
  if (newEvents.length === 0) return [];
  const inserted = await runPrepared<Record<string, unknown>>(
    tx,
    APPEND_EVENTS,
    appendParams(target, newEvents, metadata),
  ).catch((error: unknown) => {
    throw asDuplicateAppend(error);
  });
  return storedInOrder(inserted);
}

/** The appended rows as events, in position order. */
function storedInOrder(inserted: Record<string, unknown>[]): StoredEvent[] {
  return inserted
    .map((r) => toStoredEvent(eventRows.decode(r)))
    .sort((a, b) => a.position - b.position);
}

/** The append statements' parameter arrays, one entry per event. */
interface EventColumns {
  streamIds: string[];
  versions: number[];
  types: string[];
  payloads: string[];
  keys: (string | null)[];
}

const eventColumns = (): EventColumns => ({
  streamIds: [],
  versions: [],
  types: [],
  payloads: [],
  keys: [],
});

/** One saga's new events as they will be stored, payloads validated: see versionEvents. */
export interface VersionedEvents {
  readonly versioned: readonly VersionedEvent[];
}
type VersionedEvent = ReturnType<typeof versioned>[number];

/**
 * One saga's new events on its two streams with the next versions, each payload validated
 * (parseEventPayload): for a caller that both appends them (appendParams) and folds them
 * (pendingEvents), so that each payload is parsed once.
 */
export function versionEvents(
  target: AppendTarget,
  newEvents: readonly NewEvent[],
): VersionedEvents {
  return { versioned: versioned(target, newEvents) };
}

const asVersioned = (target: AppendTarget, events: readonly NewEvent[] | VersionedEvents) =>
  'versioned' in events ? events.versioned : versioned(target, events);

/** One saga's new events as they will be stored: on its two streams with the next versions. */
function versioned(target: AppendTarget, newEvents: readonly NewEvent[]) {
  let sagaVersion = target.heads.version;
  let orderVersion = target.heads.orderVersion;
  return newEvents.map((e) => {
    const onSaga = streamKindOf(e.type) === 'saga';
    return {
      streamId: onSaga ? sagaStreamId(target.sagaId) : orderStreamId(target.orderId),
      version: onSaga ? ++sagaVersion : ++orderVersion,
      type: e.type,
      payload: parseEventPayload(e.type, e.payload),
      idempotencyKey: e.idempotencyKey ?? null,
    };
  });
}

function addVersioned(c: EventColumns, events: readonly VersionedEvent[]): void {
  for (const e of events) {
    c.streamIds.push(e.streamId);
    c.versions.push(e.version);
    c.types.push(e.type);
    c.payloads.push(JSON.stringify(e.payload));
    c.keys.push(e.idempotencyKey);
  }
}

/**
 * The events appendParams appends, as they will read once stored, but for their positions (0:
 * the database assigns them): stamped `now`, the transaction's start, which is what the
 * append's recorded_at default gives them.
 */
export function pendingEvents(
  target: AppendTarget,
  newEvents: readonly NewEvent[] | VersionedEvents,
  metadata: Omit<EventMetadata, 'correlationId'>,
  now: Date,
): StoredEvent[] {
  const meta = { correlationId: target.sagaId, ...metadata };
  return asVersioned(target, newEvents).map(
    (e) =>
      ({
        position: 0,
        streamId: e.streamId,
        version: e.version,
        type: e.type,
        payload: e.payload,
        metadata: meta,
        recordedAt: now,
      }) as StoredEvent,
  );
}

/**
 * APPEND_EVENTS for many sagas at once (a bulk operation's batch): each event carries its own
 * metadata (its saga's correlation id), and each saga gets its own NOTIFY, as if appended alone.
 */
const APPEND_EVENTS_OF_SAGAS = `
  with appended as (
    insert into ${eventRows.table} (${col('sagaMonth')}, ${col('streamId')}, ${col('version')},
      ${col('type')}, ${col('payload')}, ${col('metadata')}, ${col('idempotencyKey')})
    select saga_month(coalesce(started_at::timestamptz, now())), stream_id, version, type,
      payload, metadata, idempotency_key
    -- started_at as text[]: the array types the driver serialises (text, int, jsonb)
    from unnest($2::text[], $3::int[], $4::text[], $5::jsonb[], $6::jsonb[], $7::text[], $8::text[])
      as e(stream_id, version, type, payload, metadata, idempotency_key, started_at)
    returning ${eventRows.fields.map((f) => f.name).join(', ')}
  ), notified as (
    select pg_notify($1::text, json_build_object('sagaId', ${col('metadata')}->>'correlationId',
      'types', json_agg(${col('type')} order by ${col('position')}),
      'position', max(${col('position')}))::text)
    from appended group by ${col('metadata')}->>'correlationId'
  )
  select appended.* from appended where (select count(*) from notified) >= 0`;

/**
 * appendEvents for several sagas in one statement: the same rows and notifications as one
 * append per saga, in the order given. Any existing idempotency key throws
 * DuplicateAppendError (the caller rolls back). Answers each saga's stored events.
 */
export async function appendEventsOfSagas(
  tx: Tx,
  appends: readonly { target: AppendTarget; events: readonly NewEvent[] }[],
  metadata: Omit<EventMetadata, 'correlationId'>,
): Promise<Map<string, StoredEvent[]>> {
  const c = eventColumns();
  const metadatas: string[] = [];
  const startedAts: (string | null)[] = [];
  for (const { target, events: newEvents } of appends) {
    addVersioned(c, versioned(target, newEvents));
    const m = JSON.stringify({ correlationId: target.sagaId, ...metadata });
    const startedAt = target.startedAt?.toISOString() ?? null;
    for (let i = 0; i < newEvents.length; i++) {
      metadatas.push(m);
      startedAts.push(startedAt);
    }
  }
  const bySaga = new Map<string, StoredEvent[]>(appends.map((a) => [a.target.sagaId, []]));
  if (c.keys.length === 0) return bySaga;
  const inserted = await runPrepared<Record<string, unknown>>(tx, APPEND_EVENTS_OF_SAGAS, [
    LIVE_CHANNEL,
    c.streamIds,
    c.versions,
    c.types,
    c.payloads,
    metadatas,
    c.keys,
    startedAts,
  ]).catch((error: unknown) => {
    throw asDuplicateAppend(error);
  });
  for (const e of storedInOrder(inserted)) bySaga.get(e.metadata.correlationId)?.push(e);
  return bySaga;
}

function toStoredEvent(row: Row<typeof events>): StoredEvent {
  return {
    position: row.position,
    streamId: row.streamId,
    version: row.version,
    type: row.type,
    payload: row.payload,
    metadata: row.metadata,
    recordedAt: row.recordedAt,
  } as StoredEvent;
}

/**
 * A saga's timeline: its saga and order streams together, in the order things happened. The
 * saga's start names the one partition that holds them (the planner reads no other).
 */
export async function readSagaEvents(
  db: DbOrTx,
  saga: { sagaId: string; orderId: string; startedAt: Date },
): Promise<StoredEvent[]> {
  const rows = await db
    .select()
    .from(events)
    .where(
      and(
        eq(events.sagaMonth, sql`saga_month(${saga.startedAt.toISOString()}::timestamptz)`),
        inArray(events.streamId, [sagaStreamId(saga.sagaId), orderStreamId(saga.orderId)]),
      ),
    )
    .orderBy(asc(events.position));
  return rows.map(toStoredEvent);
}

/** Reads the whole store in pages by position, for replay. */
export async function* readAllEvents(db: DbOrTx, pageSize = 5000): AsyncGenerator<StoredEvent[]> {
  let after = 0;
  for (;;) {
    const rows = await db
      .select()
      .from(events)
      .where(sql`${events.position} > ${after}`)
      .orderBy(asc(events.position))
      .limit(pageSize);
    if (rows.length === 0) return;
    after = rows[rows.length - 1]!.position;
    yield rows.map(toStoredEvent);
  }
}
