import { z } from 'zod';
import { type AuditRole } from '@/db/audit';
import { addBackgroundJob } from '@/db/background-jobs';
import {
  bulkJobKey,
  claimPendingItems,
  finishOperation,
  lockRunningOperation,
  recordItemOutcomes,
  RUN_BULK_OPERATION_TASK,
} from '@/db/bulk-operations';
import { getDb } from '@/db/client';
import { DuplicateAppendError } from '@/db/saga-store';
import { applyOperatorAction } from '@/server/commands/operator-action';
import { AppError } from '@/lib/errors';
import { logger } from '@/server/logger';

const payloadSchema = z.object({ operationId: z.uuid() });

/** Sagas per transaction: small enough that a cancel waits for little, large enough to be cheap. */
export const BULK_BATCH_SIZE = 50;
/** One job run works this long, then queues the next run, so saga jobs are not kept waiting. */
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
  const until = Date.now() + RUN_MS;
  for (;;) {
    const result = await runBulkBatch(operationId);
    if (result === 'stopped') return;
    if (result === 'empty') {
      if (await finishOperation(getDb(), operationId, 'done'))
        logger.info({ operationId, event: 'bulk.done' }, 'bulk operation done');
      return;
    }
    if (Date.now() >= until) {
      await addBackgroundJob(
        getDb(),
        RUN_BULK_OPERATION_TASK,
        { operationId },
        {
          key: bulkJobKey(operationId),
        },
      );
      return;
    }
  }
}

/**
 * One batch in one transaction: claim the next sagas (SKIP LOCKED), act on each as a single
 * operator action would (its own savepoint, so one saga's refusal or error does not undo the
 * others), record each outcome. The outcome commits with the saga's event, or neither does:
 * a worker killed mid-batch leaves those sagas for the next batch, never half-done.
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
    const outcomes = [];
    for (const sagaId of sagaIds) {
      try {
        await tx.transaction((sp) =>
          applyOperatorAction(sp, op.action, sagaId, op.reason, by, operationId),
        );
        outcomes.push({ sagaId, outcome: 'succeeded' as const, message: null });
      } catch (error) {
        if (
          error instanceof AppError &&
          (error.kind === 'conflict' || error.kind === 'not_found')
        ) {
          outcomes.push({ sagaId, outcome: 'skipped' as const, message: error.message });
        } else if (error instanceof DuplicateAppendError) {
          outcomes.push({
            sagaId,
            outcome: 'skipped' as const,
            message: 'already done by this operation',
          });
        } else {
          logger.error({ err: error, operationId, sagaId }, 'bulk operation: saga failed');
          const message = error instanceof Error ? error.message : String(error);
          outcomes.push({ sagaId, outcome: 'failed' as const, message: message.slice(0, 500) });
        }
      }
    }
    await recordItemOutcomes(tx, operationId, outcomes);
    return 'processed';
  });
}
