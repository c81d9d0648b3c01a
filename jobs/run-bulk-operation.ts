import { z } from 'zod';
import { type AuditActor, type AuditRole } from '@/db/audit';
import { addBackgroundJob } from '@/db/background-jobs';
import {
  BULK_JOB_PRIORITY,
  bulkJobKey,
  FOLLOW_UP_PRIORITY,
  claimPendingItems,
  finishOperation,
  lockRunningOperation,
  recordItemOutcomes,
  RUN_BULK_OPERATION_TASK,
} from '@/db/bulk-operations';
import { getDb, type Tx } from '@/db/client';
import { DuplicateAppendError } from '@/db/saga-store';
import {
  applyOperatorAction,
  applyOperatorActions,
  type BatchOutcome,
  type OperatorActionName,
} from '@/server/commands/operator-action';
import { AppError } from '@/lib/errors';
import { getEnv } from '@/lib/env';
import { logger } from '@/server/logger';

const payloadSchema = z.object({ operationId: z.uuid() });

/** Sagas per transaction: small enough that a cancel waits for little, large enough to be cheap. */
export const BULK_BATCH_SIZE = 100;
/**
 * One job run works this long, then queues the next run (behind the saga steps that are due,
 * see BULK_JOB_PRIORITY), so saga jobs are not kept waiting.
 */
const RUN_MS = 2_000;

type BatchResult = 'processed' | 'empty' | 'stopped';

/**
 * The background side of a bulk operation: batches until its sagas are done, it is cancelled,
 * or this run's time is up (then the job is queued again, under the same key).
 */
export async function runBulkOperation(rawPayload: unknown): Promise<void> {
  const parsed = payloadSchema.safeParse(rawPayload);
  if (!parsed.success) {
    logger.error({ payload: rawPayload }, 'malformed bulk operation job dropped');
    return;
  }
  const { operationId } = parsed.data;
  const rate = getEnv().RXSAGA_BULK_RATE;
  const started = Date.now();
  const until = started + RUN_MS;
  for (let batches = 1; ; batches++) {
    const result = await runBulkBatch(operationId);
    if (result === 'stopped') return;
    if (result === 'empty') {
      if (await finishOperation(getDb(), operationId, 'done'))
        logger.info({ operationId, event: 'bulk.done' }, 'bulk operation done');
      return;
    }
    // At most RXSAGA_BULK_RATE sagas per second: wait out what this run is ahead by (here: a
    // job delayed instead would wait for the next poll, up to a second late).
    const ahead = started + (batches * BULK_BATCH_SIZE * 1000) / rate - Date.now();
    if (ahead > 0) await sleep(ahead);
    if (Date.now() >= until) {
      await addBackgroundJob(
        getDb(),
        RUN_BULK_OPERATION_TASK,
        { operationId },
        { key: bulkJobKey(operationId), priority: BULK_JOB_PRIORITY },
      );
      return;
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One batch in one transaction: claim the next sagas (SKIP LOCKED), act on all of them as
 * single operator actions would, in a fixed number of statements (applyOperatorActions),
 * record each outcome. The outcomes commit with the sagas' events, or nothing does: a worker
 * killed mid-batch leaves those sagas for the next batch, never half-done. Should acting on the
 * batch at once fail (an unexpected error on one saga, a repeated key), its savepoint is rolled
 * back and the batch is taken one saga at a time, each in its own savepoint, so that saga is
 * `failed` (or `skipped`) and the others still succeed.
 */
export async function runBulkBatch(
  operationId: string,
  size = BULK_BATCH_SIZE,
): Promise<BatchResult> {
  return getDb().transaction(async (tx) => {
    const op = await lockRunningOperation(tx, operationId);
    if (!op) return 'stopped';
    const sagaIds = await claimPendingItems(tx, operationId, size);
    if (sagaIds.length === 0) return 'empty';
    const by = { actor: op.actor, role: op.role as AuditRole, requestId: op.requestId };
    let outcomes: Outcome[];
    try {
      outcomes = await tx.transaction((sp) =>
        applyOperatorActions(
          sp,
          op.action,
          sagaIds,
          op.reason,
          by,
          operationId,
          FOLLOW_UP_PRIORITY,
        ),
      );
    } catch (error) {
      logger.warn(
        { err: error, operationId, sagas: sagaIds.length },
        'bulk operation: the batch failed as a whole; taking its sagas one at a time',
      );
      outcomes = await oneByOne(tx, op, sagaIds, by, operationId);
    }
    await recordItemOutcomes(tx, operationId, outcomes);
    return 'processed';
  });
}

type Outcome = BatchOutcome | { sagaId: string; outcome: 'failed'; message: string };

/** The batch's sagas one at a time, each in its own savepoint (see runBulkBatch). */
async function oneByOne(
  tx: Tx,
  op: { action: OperatorActionName; reason: string },
  sagaIds: readonly string[],
  by: AuditActor,
  operationId: string,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const sagaId of sagaIds) {
    try {
      await tx.transaction((sp) =>
        applyOperatorAction(sp, op.action, sagaId, op.reason, by, operationId),
      );
      outcomes.push({ sagaId, outcome: 'succeeded', message: null });
    } catch (error) {
      if (error instanceof AppError && (error.kind === 'conflict' || error.kind === 'not_found')) {
        outcomes.push({ sagaId, outcome: 'skipped', message: error.message });
      } else if (error instanceof DuplicateAppendError) {
        outcomes.push({ sagaId, outcome: 'skipped', message: 'already done by this operation' });
      } else {
        logger.error({ err: error, operationId, sagaId }, 'bulk operation: saga failed');
        const message = error instanceof Error ? error.message : String(error);
        outcomes.push({ sagaId, outcome: 'failed', message: message.slice(0, 500) });
      }
    }
  }
  return outcomes;
}
