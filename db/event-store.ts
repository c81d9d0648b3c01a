import { asc, inArray, sql } from 'drizzle-orm';
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
import type { Tx, DbOrTx } from './client';
import { rawSql, readTimestamp, type RawTimestamp } from './raw';
import { events } from './schema';

export interface StreamHeads {
  sagaId: string;
  orderId: string;
  /** Current versions; the next event of a stream gets version + 1. */
  sagaVersion: number;
  orderVersion: number;
}

/** A repeated append (same idempotency key): the whole decision was applied before. */
export class DuplicateAppendError extends Error {
  constructor(readonly keys: string[]) {
    super(`events already appended: ${keys.join(', ')}`);
  }
}

interface EventRecord {
  /** int8: postgres.js returns it as a string. */
  position: string;
  stream_id: string;
  version: number;
  type: string;
  payload: unknown;
  metadata: EventMetadata;
  idempotency_key: string | null;
  recorded_at: RawTimestamp;
}

/**
 * Appends events to a saga's two streams with the next versions. The unique
 * (stream_id, version) index turns a lost race into an error instead of a fork, and a unique
 * idempotency key turns a repeat into DuplicateAppendError (the caller rolls back: a no-op).
 * Every task appends: one prepared statement for any number of events (see db/raw.ts).
 */
export async function appendEvents(
  tx: Tx,
  heads: StreamHeads,
  newEvents: readonly NewEvent[],
  metadata: Omit<EventMetadata, 'correlationId'>,
): Promise<StoredEvent[]> {
  if (newEvents.length === 0) return [];
  let sagaVersion = heads.sagaVersion;
  let orderVersion = heads.orderVersion;
  const eventMetadata = JSON.stringify({ correlationId: heads.sagaId, ...metadata });
  const streamIds: string[] = [];
  const versions: number[] = [];
  const types: string[] = [];
  const payloads: string[] = [];
  const keys: (string | null)[] = [];
  for (const e of newEvents) {
    const onSaga = streamKindOf(e.type) === 'saga';
    streamIds.push(onSaga ? sagaStreamId(heads.sagaId) : orderStreamId(heads.orderId));
    versions.push(onSaga ? ++sagaVersion : ++orderVersion);
    types.push(e.type);
    payloads.push(JSON.stringify(parseEventPayload(e.type, e.payload)));
    keys.push(e.idempotencyKey ?? null);
  }
  // unnest keeps the events' order, and identity positions are assigned in that order. The
  // live dashboard's NOTIFY (one per append, naming the saga, the new types and the last
  // position) goes out in the same statement; it is delivered only if the transaction commits.
  const inserted = await rawSql(tx)<EventRecord[]>`
    with appended as (
      insert into events (stream_id, version, type, payload, metadata, idempotency_key)
      select stream_id, version, type, payload, ${eventMetadata}::jsonb, idempotency_key
      from unnest(${streamIds}::text[], ${versions}::int[], ${types}::text[], ${payloads}::jsonb[],
        ${keys}::text[]) as e(stream_id, version, type, payload, idempotency_key)
      on conflict (idempotency_key) do nothing
      returning position, stream_id, version, type, payload, metadata, idempotency_key, recorded_at
    ), notified as (
      select pg_notify(${LIVE_CHANNEL}, json_build_object('sagaId', ${heads.sagaId}::text,
        'types', json_agg(type order by position), 'position', max(position))::text)
      from appended
    )
    select appended.* from appended, notified`;
  if (inserted.length !== newEvents.length) {
    const done = new Set(inserted.map((r) => r.idempotency_key));
    throw new DuplicateAppendError(keys.flatMap((k) => (k && !done.has(k) ? [k] : [])));
  }
  return inserted.map(recordToStoredEvent).sort((a, b) => a.position - b.position);
}

function recordToStoredEvent(r: EventRecord): StoredEvent {
  return {
    position: Number(r.position),
    streamId: r.stream_id,
    version: r.version,
    type: r.type,
    payload: r.payload,
    metadata: r.metadata,
    recordedAt: readTimestamp(r.recorded_at),
  } as StoredEvent;
}

export function toStoredEvent(row: typeof events.$inferSelect): StoredEvent {
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

/** A saga's timeline: its saga and order streams together, in the order things happened. */
export async function readSagaEvents(
  db: DbOrTx,
  sagaId: string,
  orderId: string,
): Promise<StoredEvent[]> {
  const rows = await db
    .select()
    .from(events)
    .where(inArray(events.streamId, [sagaStreamId(sagaId), orderStreamId(orderId)]))
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
