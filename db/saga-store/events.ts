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
  let sagaVersion = target.heads.version;
  let orderVersion = target.heads.orderVersion;
  const eventMetadata = JSON.stringify({ correlationId: target.sagaId, ...metadata });
  const streamIds: string[] = [];
  const versions: number[] = [];
  const types: string[] = [];
  const payloads: string[] = [];
  const keys: (string | null)[] = [];
  for (const e of newEvents) {
    const onSaga = streamKindOf(e.type) === 'saga';
    streamIds.push(onSaga ? sagaStreamId(target.sagaId) : orderStreamId(target.orderId));
    versions.push(onSaga ? ++sagaVersion : ++orderVersion);
    types.push(e.type);
    payloads.push(JSON.stringify(parseEventPayload(e.type, e.payload)));
    keys.push(e.idempotencyKey ?? null);
  }
  const inserted = await runPrepared<Record<string, unknown>>(tx, APPEND_EVENTS, [
    LIVE_CHANNEL,
    target.sagaId,
    eventMetadata,
    streamIds,
    versions,
    types,
    payloads,
    keys,
    target.startedAt?.toISOString() ?? null,
  ]);
  if (inserted.length !== newEvents.length) {
    const done = new Set(inserted.map((r) => r[KEY_COLUMN]));
    throw new DuplicateAppendError(keys.flatMap((k) => (k && !done.has(k) ? [k] : [])));
  }
  return inserted
    .map((r) => toStoredEvent(eventRows.decode(r)))
    .sort((a, b) => a.position - b.position);
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
