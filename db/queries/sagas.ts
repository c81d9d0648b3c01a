import { and, eq, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { AppError } from '@/lib/errors';
import { withoutNul } from '@/lib/input';
import { SAGA_STATES, type SagaState } from '@/lib/saga/model';
import type { DbOrTx } from '../client';
import { readSagaEvents } from '../saga-store';
import { pausedSagas, orderFulfillmentSagas as sagas } from '../schema';

/** A saga as the API and the dashboard show it (ISO times; null where not reached). */
export interface SagaView {
  sagaId: string;
  orderId: string;
  patientId: string;
  state: SagaState;
  needsIntervention: boolean;
  interventionReason: string | null;
  startedAt: string;
  completedAt: string | null;
  /** completedAt − startedAt; null while the saga is in flight. */
  durationSeconds: number | null;
  currentTask: string | null;
  failedStep: string | null;
  failureReason: string | null;
  compensationsDone: string[];
  attempts: number;
  lastError: string | null;
  updatedAt: string;
  /** Since when the saga waits at its current task because that task is paused; else null. */
  pausedAt: string | null;
}

export interface SagaEventView {
  position: number;
  streamId: string;
  version: number;
  type: string;
  payload: unknown;
  metadata: unknown;
  recordedAt: string;
}

export interface SagaDetail extends SagaView {
  events: SagaEventView[];
}

type SagaRow = typeof sagas.$inferSelect;

/**
 * Saga reads select the row with its hold at a paused task (db/pauses.ts), if it waits at one:
 * `.from(sagas).leftJoin(pausedSagas, heldAtCurrentTask)`. A hold at a task the saga has left
 * (cancelled while it waited) is not shown.
 */
export const sagaWithHold = { row: sagas, pausedAt: pausedSagas.pausedAt };
export const heldAtCurrentTask = and(
  eq(pausedSagas.sagaId, sagas.sagaId),
  eq(pausedSagas.task, sagas.currentTask),
);

export function toSagaView({ row, pausedAt }: { row: SagaRow; pausedAt: Date | null }): SagaView {
  return {
    sagaId: row.sagaId,
    orderId: row.orderId,
    patientId: row.patientId,
    state: row.state,
    needsIntervention: row.needsIntervention,
    interventionReason: row.interventionReason,
    startedAt: row.startedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    durationSeconds: row.completedAt
      ? (row.completedAt.getTime() - row.startedAt.getTime()) / 1000
      : null,
    currentTask: row.currentTask,
    failedStep: row.failedStep,
    failureReason: row.failureReason,
    compensationsDone: row.compensationsDone,
    attempts: row.attempts,
    lastError: row.lastError,
    updatedAt: row.updatedAt.toISOString(),
    pausedAt: pausedAt?.toISOString() ?? null,
  };
}

const isUuid = (value: string) => z.uuid().safeParse(value).success;

const MAX_PAGE_SIZE = 200;

export const sagaListQuerySchema = withoutNul(
  z.object({
    state: z.enum(SAGA_STATES).optional(),
    needsIntervention: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    /**
     * An order id, saga id or patient id, matched exactly (each has its own index). Patient ids
     * only where the caller may see them (`matchPatientId` of listSagas).
     */
    q: z
      .string()
      .trim()
      .max(200)
      .optional()
      .transform((v) => v || undefined),
    cursor: z.string().max(500).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  }),
);
export type SagaListQuery = z.infer<typeof sagaListQuerySchema>;

export interface SagaPage {
  items: SagaView[];
  nextCursor: string | null;
}

/**
 * The cursor is the last row's (started_at, saga_id). started_at goes out as Postgres's own
 * text form, which casts back to the exact microsecond (a JS Date would round it to ms).
 */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(?:([+-])(\d{2})(?::?(\d{2}))?|Z)$/;

/**
 * A time PostgreSQL accepts, not only one shaped like it: "2026-02-30" or hour 25 would fail
 * the cast in the query (a 500) instead of being refused as a bad cursor.
 */
function isRealTimestamp(text: string): boolean {
  const m = TIMESTAMP.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  const [offsetHours, offsetMinutes] = [m[9], m[10]].map((v) => Number(v ?? 0)) as number[];
  const leap = (year! % 4 === 0 && year! % 100 !== 0) || year! % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month! - 1];
  return (
    year! >= 1 &&
    daysInMonth !== undefined &&
    day! >= 1 &&
    day! <= daysInMonth &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 59 &&
    offsetHours! <= 15 &&
    offsetMinutes! <= 59
  );
}

const cursorSchema = z.tuple([z.string().refine(isRealTimestamp), z.uuid()]);

/** Keyset cursors of (timestamp, uuid): also the bulk operations' history (db/bulk-operations.ts). */
export const encodeCursor = (startedAt: string, sagaId: string) =>
  Buffer.from(JSON.stringify([startedAt, sagaId])).toString('base64url');

export function decodeCursor(cursor: string): z.infer<typeof cursorSchema> {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new AppError('invalid_input', 'invalid cursor', [
      { path: ['cursor'], message: 'not a cursor from this API' },
    ]);
  }
}

/** The saga filters shared by the Sagas list and bulk operations (db/bulk-operations.ts). */
export interface SagaConditions {
  state?: SagaState | undefined;
  needsIntervention?: boolean | undefined;
  /** An order id, saga id or, with matchPatientId, a patient id, matched exactly. */
  q?: string | undefined;
  matchPatientId?: boolean;
}

export function sagaConditions(c: SagaConditions): (SQL | undefined)[] {
  const where: (SQL | undefined)[] = [];
  if (c.state) where.push(eq(sagas.state, c.state));
  if (c.needsIntervention !== undefined)
    where.push(eq(sagas.needsIntervention, c.needsIntervention));
  if (c.q) {
    where.push(
      or(
        eq(sagas.orderId, c.q),
        c.matchPatientId ? eq(sagas.patientId, c.q) : undefined,
        isUuid(c.q) ? eq(sagas.sagaId, c.q) : undefined,
      ),
    );
  }
  return where;
}

/**
 * Newest first, keyset-paginated: `(started_at, saga_id) < cursor` walks sagas_started_at_idx
 * (or sagas_state_started_at_idx with a state filter) from where the last page ended, so page
 * 10 000 costs what page 1 does. Never OFFSET.
 *
 * `matchPatientId`: whether `q` also matches patient ids. Off unless asked for: a viewer sees
 * patient ids masked, and an exact-match search would unmask them one guess at a time.
 */
export async function listSagas(
  db: DbOrTx,
  query: SagaListQuery,
  { matchPatientId = false }: { matchPatientId?: boolean } = {},
): Promise<SagaPage> {
  const where = sagaConditions({ ...query, matchPatientId });
  if (query.cursor) {
    const [startedAt, sagaId] = decodeCursor(query.cursor);
    where.push(
      sql`(${sagas.startedAt}, ${sagas.sagaId}) < (${startedAt}::timestamptz, ${sagaId}::uuid)`,
    );
  }
  const rows = await db
    .select({ ...sagaWithHold, cursorAt: sql<string>`${sagas.startedAt}::text` })
    .from(sagas)
    .leftJoin(pausedSagas, heldAtCurrentTask)
    .where(and(...where))
    // NULLS LAST like the indexes (drizzle's .desc() builds them so); a plain DESC would
    // not match them, and Postgres would sort the whole table instead.
    .orderBy(sql`${sagas.startedAt} desc nulls last`, sql`${sagas.sagaId} desc nulls last`)
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map(toSagaView),
    nextCursor:
      rows.length > query.limit && last ? encodeCursor(last.cursorAt, last.row.sagaId) : null,
  };
}

async function getSagaView(db: DbOrTx, sagaId: string): Promise<SagaView | null> {
  if (!isUuid(sagaId)) return null;
  const [row] = await db
    .select(sagaWithHold)
    .from(sagas)
    .leftJoin(pausedSagas, heldAtCurrentTask)
    .where(eq(sagas.sagaId, sagaId));
  return row ? toSagaView(row) : null;
}

export async function getSagaViewByOrderId(db: DbOrTx, orderId: string): Promise<SagaView | null> {
  const [row] = await db
    .select(sagaWithHold)
    .from(sagas)
    .leftJoin(pausedSagas, heldAtCurrentTask)
    .where(eq(sagas.orderId, orderId));
  return row ? toSagaView(row) : null;
}

/** The saga with its timeline: saga and order streams together, in the order things happened. */
export async function getSagaDetail(db: DbOrTx, sagaId: string): Promise<SagaDetail | null> {
  const saga = await getSagaView(db, sagaId);
  if (!saga) return null;
  const events = await readSagaEvents(db, { ...saga, startedAt: new Date(saga.startedAt) });
  return {
    ...saga,
    events: events.map((e) => ({ ...e, recordedAt: e.recordedAt.toISOString() })),
  };
}
