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

/** A repeated append (same idempotency key): the whole decision was applied before. */
export class DuplicateAppendError extends Error {
  constructor(readonly keys: string[]) {
    super(`events already appended: ${keys.join(', ')}`);
  }
}

const KEY_COLUMN = eventRows.field('idempotencyKey').column;
const col = (key: keyof Row<typeof events>) => eventRows.field(key).name;

/**
 * unnest keeps the events' order, and identity positions are assigned in that order. The live
 * dashboard's NOTIFY (one per append, naming the saga, the new types and the last position)
 * goes out in the same statement; it is delivered only if the transaction commits.
 */
const APPEND_EVENTS = `
  with appended as (
    insert into ${eventRows.table} (${col('sagaMonth')}, ${col('streamId')}, ${col('version')},
      ${col('type')}, ${col('payload')}, ${col('metadata')}, ${col('idempotencyKey')})
    select saga_month(coalesce($9::timestamptz, now())), stream_id, version, type, payload, $3::jsonb, idempotency_key
    from unnest($4::text[], $5::int[], $6::text[], $7::jsonb[], $8::text[])
      as e(stream_id, version, type, payload, idempotency_key)
    on conflict (${col('idempotencyKey')}, ${col('sagaMonth')}) do nothing
    returning ${eventRows.fields.map((f) => f.name).join(', ')}
  ), notified as (
    select pg_notify($1::text, json_build_object('sagaId', $2::text,
      'types', json_agg(${col('type')} order by ${col('position')}),
      'position', max(${col('position')}))::text)
    from appended
  )
  select appended.* from appended, notified`;

/**
 * Appends events to a saga's two streams with the next versions. The unique
 * (stream_id, version) index turns a lost race into an error instead of a fork, and a unique
 * idempotency key turns a repeat into DuplicateAppendError (the caller rolls back: a no-op).
 * Every task appends: one prepared statement for any number of events (see db/raw.ts).
 */
export async function appendEvents(
  tx: Tx,
  target: AppendTarget,
  newEvents: readonly NewEvent[],
  metadata: Omit<EventMetadata, 'correlationId'>,
): Promise<StoredEvent[]> {
  if (newEvents.length === 0) return [];
  const c = eventColumns();
  addEvents(c, target, newEvents);
  const inserted = await runPrepared<Record<string, unknown>>(tx, APPEND_EVENTS, [
    LIVE_CHANNEL,
    target.sagaId,
    JSON.stringify({ correlationId: target.sagaId, ...metadata }),
    c.streamIds,
    c.versions,
    c.types,
    c.payloads,
    c.keys,
    target.startedAt?.toISOString() ?? null,
  ]);
  return storedOrDuplicate(inserted, c.keys);
}

/** The appended rows as events in position order, or DuplicateAppendError if any key existed. */
function storedOrDuplicate(
  inserted: Record<string, unknown>[],
  keys: readonly (string | null)[],
): StoredEvent[] {
  if (inserted.length !== keys.length) {
    const done = new Set(inserted.map((r) => r[KEY_COLUMN]));
    throw new DuplicateAppendError(keys.flatMap((k) => (k && !done.has(k) ? [k] : [])));
  }
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

/** One saga's new events, on its two streams with the next versions. */
function addEvents(c: EventColumns, target: AppendTarget, newEvents: readonly NewEvent[]): void {
  let sagaVersion = target.heads.version;
  let orderVersion = target.heads.orderVersion;
  for (const e of newEvents) {
    const onSaga = streamKindOf(e.type) === 'saga';
    c.streamIds.push(onSaga ? sagaStreamId(target.sagaId) : orderStreamId(target.orderId));
    c.versions.push(onSaga ? ++sagaVersion : ++orderVersion);
    c.types.push(e.type);
    c.payloads.push(JSON.stringify(parseEventPayload(e.type, e.payload)));
    c.keys.push(e.idempotencyKey ?? null);
  }
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
    on conflict (${col('idempotencyKey')}, ${col('sagaMonth')}) do nothing
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
    addEvents(c, target, newEvents);
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
  ]);
  for (const e of storedOrDuplicate(inserted, c.keys))
    bySaga.get(e.metadata.correlationId)?.push(e);
  return bySaga;
}

export function toStoredEvent(row: Row<typeof events>): StoredEvent {
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
