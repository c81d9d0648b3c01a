import { randomUUID } from 'node:crypto';
import { and, desc, eq, gt, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import { failureGroupOf } from '@/lib/incidents/failure-groups';
import type { BulkFilter } from '@/lib/incidents/bulk-operation-input';
import { MAX_BULK_SAGAS } from '@/lib/incidents/bulk-operation-input';
import { ruleViolation } from '@/lib/errors';
import type { AuditActor } from './audit';
import type { DbOrTx, Tx } from './client';
import { decodeCursor, encodeCursor, sagaConditions } from './queries/sagas';
import { rawSql } from './saga-store';
import {
  BULK_OUTCOMES,
  bulkOperationItems as items,
  bulkOperations as operations,
  orderFulfillmentSagas as sagas,
} from './schema';

/**
 * Bulk operations' rows (db/schema.ts): the matching, the frozen set, the batches' claims and
 * the views. The command is server/commands/bulk-operation.ts, the job jobs/run-bulk-operation.ts.
 */

export const RUN_BULK_OPERATION_TASK = 'run-bulk-operation';
export const bulkJobKey = (operationId: string) => `${RUN_BULK_OPERATION_TASK}:${operationId}`;

/**
 * graphile-worker priority (smaller runs first; saga steps have 0) of this job's runs, and of
 * the jobs its batches add (a cancelled saga's compensations, a retried step): new sagas' steps
 * go first, then the operation's next batch, then its follow-up work.
 */
export const BULK_JOB_PRIORITY = 5;
export const FOLLOW_UP_PRIORITY = 10;

type Outcome = (typeof BULK_OUTCOMES)[number];
type Counts = Record<Outcome, number>;
type OperationRow = typeof operations.$inferSelect;

export interface BulkOperationView extends Counts {
  operationId: string;
  action: OperationRow['action'];
  reason: string;
  actor: string;
  filter: BulkFilter;
  status: OperationRow['status'];
  total: number;
  createdAt: string;
  finishedAt: string | null;
}

/**
 * The ids of the sagas a filter matches, oldest first. A failure group is the one condition
 * SQL cannot say (its normalised error is computed in lib/incidents), so with a groupId the
 * flagged sagas the other conditions match are read and grouped here.
 */
export async function matchSagaIds(db: DbOrTx, filter: BulkFilter): Promise<string[]> {
  const where: (SQL | undefined)[] = sagaConditions({
    state: filter.state,
    needsIntervention: filter.groupId ? true : filter.needsIntervention,
    q: filter.q,
    matchPatientId: true, // bulk operations are for operators, who see patient ids
  });
  if (filter.sagaIds) where.push(inArray(sagas.sagaId, filter.sagaIds));
  if (filter.task) where.push(eq(sagas.currentTask, filter.task));
  if (filter.startedAfter) where.push(gt(sagas.startedAt, new Date(filter.startedAfter)));
  if (filter.startedBefore) where.push(lt(sagas.startedAt, new Date(filter.startedBefore)));
  const rows = await db
    .select({ sagaId: sagas.sagaId, task: sagas.currentTask, reason: sagas.interventionReason })
    .from(sagas)
    .where(and(...where))
    .orderBy(sagas.startedAt, sagas.sagaId)
    .limit(MAX_BULK_SAGAS + 1);
  const matched = filter.groupId
    ? rows.filter((r) => failureGroupOf(r).groupId === filter.groupId)
    : rows;
  if (matched.length > MAX_BULK_SAGAS) {
    throw ruleViolation(
      `the filter matches more than ${MAX_BULK_SAGAS} sagas: narrow it (say, by startedBefore)`,
    );
  }
  return matched.map((r) => r.sagaId);
}

/** Creates the operation with its frozen set of sagas, in the caller's transaction. */
export async function insertBulkOperation(
  tx: Tx,
  op: { action: OperationRow['action']; reason: string; filter: BulkFilter },
  by: AuditActor,
  sagaIds: readonly string[],
): Promise<string> {
  const operationId = randomUUID();
  await tx.insert(operations).values({
    operationId,
    action: op.action,
    reason: op.reason,
    actor: by.actor,
    role: by.role,
    requestId: by.requestId ?? null,
    filter: op.filter,
    status: sagaIds.length === 0 ? 'done' : 'running',
    total: sagaIds.length,
    ...(sagaIds.length === 0
      ? { succeeded: 0, skipped: 0, failed: 0, finishedAt: sql`now()` as unknown as Date }
      : {}),
  });
  const CHUNK = 5_000;
  for (let start = 0; start < sagaIds.length; start += CHUNK) {
    const chunk = sagaIds.slice(start, start + CHUNK);
    await rawSql(tx)`
      insert into bulk_operation_items (operation_id, saga_id, position)
      select ${operationId}::uuid, saga_id, ${start}::int + ordinality::int
      from unnest(${chunk}::uuid[]) with ordinality as t(saga_id, ordinality)`;
  }
  return operationId;
}

/** The operation as the caller (a batch) needs it, share-locked: a cancel waits for the batch. */
export async function lockRunningOperation(
  tx: Tx,
  operationId: string,
): Promise<Pick<OperationRow, 'action' | 'reason' | 'actor' | 'role' | 'requestId'> | null> {
  const [row] = await tx
    .select({
      action: operations.action,
      reason: operations.reason,
      actor: operations.actor,
      role: operations.role,
      requestId: operations.requestId,
    })
    .from(operations)
    .where(and(eq(operations.operationId, operationId), eq(operations.status, 'running')))
    .for('share');
  return row ?? null;
}

/**
 * Takes the next sagas of the operation for this transaction. SKIP LOCKED: two workers running
 * batches of one operation at once take different sagas, and a saga taken by a batch that rolls
 * back is taken again by the next.
 */
export async function claimPendingItems(
  tx: Tx,
  operationId: string,
  limit: number,
): Promise<string[]> {
  const rows = await tx
    .select({ sagaId: items.sagaId })
    .from(items)
    .where(and(eq(items.operationId, operationId), isNull(items.outcome)))
    .orderBy(items.position)
    .limit(limit)
    .for('update', { skipLocked: true });
  return rows.map((r) => r.sagaId);
}

export async function recordItemOutcomes(
  tx: Tx,
  operationId: string,
  outcomes: readonly { sagaId: string; outcome: Outcome; message: string | null }[],
): Promise<void> {
  if (outcomes.length === 0) return;
  await rawSql(tx)`
    update bulk_operation_items i set outcome = o.outcome, message = o.message, processed_at = now()
    from unnest(${outcomes.map((o) => o.sagaId)}::uuid[], ${outcomes.map((o) => o.outcome)}::text[],
      ${outcomes.map((o) => o.message)}::text[]) as o(saga_id, outcome, message)
    where i.operation_id = ${operationId}::uuid and i.saga_id = o.saga_id`;
}

/** The outcome counts of bulk_operation_items rows, as columns succeeded, skipped, failed. */
const OUTCOME_COUNTS = sql.raw(`count(*) filter (where outcome = 'succeeded')::int as succeeded,
  count(*) filter (where outcome = 'skipped')::int as skipped,
  count(*) filter (where outcome = 'failed')::int as failed`);

/**
 * Ends a running operation: `done` once no saga is left (a batch still holding some leaves it
 * running; that batch ends it), or `cancelled`. The counts are written as they stand; a cancel
 * waits for a batch in flight (its share lock), so nothing is counted after it.
 */
export async function finishOperation(
  db: DbOrTx,
  operationId: string,
  status: 'done' | 'cancelled',
): Promise<boolean> {
  const rows = await db.execute<{ operation_id: string }>(sql`
    update bulk_operations o set status = ${status}, finished_at = now(),
      succeeded = c.succeeded, skipped = c.skipped, failed = c.failed
    from (select ${OUTCOME_COUNTS} from bulk_operation_items
      where operation_id = ${operationId}::uuid) c
    where o.operation_id = ${operationId}::uuid and o.status = 'running'
      and (${status} = 'cancelled' or not exists (
        select 1 from bulk_operation_items i where i.operation_id = o.operation_id and i.outcome is null))
    returning o.operation_id`);
  return rows.length > 0;
}

function toView(row: OperationRow, live: Counts | undefined): BulkOperationView {
  return {
    operationId: row.operationId,
    action: row.action,
    reason: row.reason,
    actor: row.actor,
    filter: row.filter as BulkFilter,
    status: row.status,
    total: row.total,
    succeeded: row.succeeded ?? live?.succeeded ?? 0,
    skipped: row.skipped ?? live?.skipped ?? 0,
    failed: row.failed ?? live?.failed ?? 0,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

/** Counts of the running ones among `rows`, from their items (the finished carry their own). */
async function withLiveCounts(db: DbOrTx, rows: OperationRow[]): Promise<BulkOperationView[]> {
  const running = rows.filter((r) => r.status === 'running').map((r) => r.operationId);
  const live = new Map<string, Counts>();
  if (running.length > 0) {
    const counted = await db.execute<{ operation_id: string } & Counts>(sql`
      select operation_id::text, ${OUTCOME_COUNTS}
      from bulk_operation_items where operation_id = any(${sqlUuidArray(running)})
      group by operation_id`);
    for (const c of counted) live.set(c.operation_id, c);
  }
  return rows.map((r) => toView(r, live.get(r.operationId)));
}

export async function getBulkOperation(
  db: DbOrTx,
  operationId: string,
): Promise<BulkOperationView | null> {
  const rows = await db.select().from(operations).where(eq(operations.operationId, operationId));
  return (await withLiveCounts(db, rows))[0] ?? null;
}

export interface BulkOperationPage {
  items: BulkOperationView[];
  nextCursor: string | null;
}

/** History, newest first, keyset-paginated on (created_at, operation_id). */
export async function listBulkOperations(
  db: DbOrTx,
  { cursor, limit }: { cursor?: string | undefined; limit: number },
): Promise<BulkOperationPage> {
  const after = cursor ? decodeCursor(cursor) : null;
  const rows = await db
    .select({ row: operations, at: sql<string>`${operations.createdAt}::text` })
    .from(operations)
    .where(
      after
        ? or(
            lt(operations.createdAt, sql`${after[0]}::timestamptz`),
            and(
              eq(operations.createdAt, sql`${after[0]}::timestamptz`),
              lt(operations.operationId, after[1]),
            ),
          )
        : undefined,
    )
    .orderBy(desc(operations.createdAt), desc(operations.operationId))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: await withLiveCounts(
      db,
      page.map((r) => r.row),
    ),
    nextCursor: rows.length > limit && last ? encodeCursor(last.at, last.row.operationId) : null,
  };
}

const sqlUuidArray = (values: readonly string[]) => sql`${`{${values.join(',')}}`}::uuid[]`;
