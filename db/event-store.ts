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
import { LIVE_CHANNEL, type LiveNotification } from '@/lib/live/channel';
import type { Tx, DbOrTx } from './client';
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

/**
 * Appends events to a saga's two streams with the next versions. The unique
 * (stream_id, version) index turns a lost race into an error instead of a fork, and a unique
 * idempotency key turns a repeat into DuplicateAppendError (the caller rolls back: a no-op).
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
  const rows = newEvents.map((e) => {
    const payload = parseEventPayload(e.type, e.payload);
    const onSaga = streamKindOf(e.type) === 'saga';
    return {
      streamId: onSaga ? sagaStreamId(heads.sagaId) : orderStreamId(heads.orderId),
      version: onSaga ? ++sagaVersion : ++orderVersion,
      type: e.type,
      payload,
      metadata: { correlationId: heads.sagaId, ...metadata },
      idempotencyKey: e.idempotencyKey ?? null,
    };
  });
  const inserted = await tx
    .insert(events)
    .values(rows)
    .onConflictDoNothing({ target: events.idempotencyKey })
    .returning();
  if (inserted.length !== rows.length) {
    const done = new Set(inserted.map((r) => r.idempotencyKey));
    throw new DuplicateAppendError(rows.flatMap((r) => (r.idempotencyKey && !done.has(r.idempotencyKey) ? [r.idempotencyKey] : [])));
  }
  // Rows come back in insertion order; position is assigned in that order too.
  const stored = inserted.sort((a, b) => a.position - b.position).map(toStoredEvent);
  // One NOTIFY per append for the live dashboard; it is sent only if this transaction commits.
  const notification: LiveNotification = {
    sagaId: heads.sagaId,
    types: stored.map((e) => e.type),
    position: stored.at(-1)?.position ?? 0,
  };
  await tx.execute(sql`select pg_notify(${LIVE_CHANNEL}, ${JSON.stringify(notification)})`);
  return stored;
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
export async function readSagaEvents(db: DbOrTx, sagaId: string, orderId: string): Promise<StoredEvent[]> {
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
