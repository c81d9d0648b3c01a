import { z } from 'zod';
import { recordAudit, type AuditActor } from '@/db/audit';
import { addBackgroundJob } from '@/db/background-jobs';
import {
  BULK_JOB_PRIORITY,
  bulkJobKey,
  finishOperation,
  getBulkOperation,
  insertBulkOperation,
  matchSagaIds,
  RUN_BULK_OPERATION_TASK,
  type BulkOperationView,
} from '@/db/bulk-operations';
import type { Database } from '@/db/client';
import { conflict, invalidInput, notFound } from '@/lib/errors';
import {
  bulkOperationInputSchema,
  DRY_RUN_SAMPLE_SIZE,
} from '@/lib/incidents/bulk-operation-input';
import { logger } from '@/server/logger';

export type BulkOperationAnswer =
  | { dryRun: true; matched: number; sample: string[] }
  | { dryRun: false; operationId: string; matched: number };

/**
 * Starts a bulk retry or cancel (docs/incidents.md). A dry run counts what the filter matches
 * and changes nothing. A real one fixes its set of sagas in the transaction that creates it
 * (sagas that match later are not touched) and queues the job that works through them
 * (jobs/run-bulk-operation.ts): the answer does not wait for it.
 */
export async function startBulkOperation(
  db: Database,
  body: unknown,
  by: AuditActor,
): Promise<BulkOperationAnswer> {
  const parsed = bulkOperationInputSchema.safeParse(body);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid bulk operation');
  const { action, filter, reason, dryRun } = parsed.data;
  if (dryRun) {
    const ids = await matchSagaIds(db, filter);
    return { dryRun: true, matched: ids.length, sample: ids.slice(0, DRY_RUN_SAMPLE_SIZE) };
  }
  return db.transaction(async (tx) => {
    const ids = await matchSagaIds(tx, filter);
    const why = reason ?? ''; // required for a real run by the schema
    const operationId = await insertBulkOperation(tx, { action, reason: why, filter }, by, ids);
    if (ids.length > 0) {
      await addBackgroundJob(
        tx,
        RUN_BULK_OPERATION_TASK,
        { operationId },
        { key: bulkJobKey(operationId), priority: BULK_JOB_PRIORITY },
      );
    }
    await recordAudit(tx, by, {
      action: 'bulk.create',
      target: operationId,
      reason: why,
      after: { action, filter, matched: ids.length },
    });
    logger.info(
      { operationId, action, matched: ids.length, actor: by.actor, event: 'bulk.created' },
      `bulk ${action} of ${ids.length} sagas`,
    );
    return { dryRun: false, operationId, matched: ids.length };
  });
}

export const cancelInputSchema = z.strictObject({ reason: z.string().trim().max(2000).optional() });

/** Stops a running operation: the batch in flight finishes, no saga is touched after it. */
export async function cancelBulkOperation(
  db: Database,
  operationId: string,
  body: unknown,
  by: AuditActor,
): Promise<BulkOperationView> {
  const parsed = cancelInputSchema.safeParse(body ?? {});
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid cancel request');
  if (!z.uuid().safeParse(operationId).success)
    throw notFound(`operation ${operationId} not found`);
  return db.transaction(async (tx) => {
    const stopped = await finishOperation(tx, operationId, 'cancelled');
    const view = await getBulkOperation(tx, operationId);
    if (!view) throw notFound(`operation ${operationId} not found`);
    if (!stopped)
      throw conflict(`operation is ${view.status}: only a running one can be cancelled`);
    await recordAudit(tx, by, {
      action: 'bulk.cancel',
      target: operationId,
      reason: parsed.data.reason || null,
      after: { succeeded: view.succeeded, skipped: view.skipped, failed: view.failed },
    });
    return view;
  });
}
