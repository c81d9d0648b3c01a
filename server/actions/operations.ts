'use server';

import type { BulkOperationView } from '@/db/bulk-operations';
import { getDb } from '@/db/client';
import { requireOperator } from '@/server/auth/guards';
import { auditActorOf } from '@/lib/auth/principal';
import { cancelBulkOperation, startBulkOperation } from '@/server/commands/bulk-operation';
import { refusalResult, type ActionResult } from '@/server/web/action-result';

type Action = 'retry' | 'cancel';

/**
 * Bulk operations from the dashboard (Needs intervention, Operations): the same command as
 * POST /api/bulk-operations. Arguments come from the browser: the command validates them.
 */
export async function previewBulkOperationAction(
  action: Action,
  filter: unknown,
): Promise<ActionResult<{ matched: number; sample: string[] }>> {
  try {
    const principal = await requireOperator();
    const answer = await startBulkOperation(
      getDb(),
      { action, filter, dryRun: true },
      auditActorOf(principal),
    );
    return answer.dryRun
      ? { ok: true, data: { matched: answer.matched, sample: answer.sample } }
      : { ok: false, message: 'not a dry run', fieldErrors: {} };
  } catch (error) {
    return refusalResult(error, 'bulk.preview');
  }
}

export async function startBulkOperationAction(
  action: Action,
  filter: unknown,
  reason: string,
): Promise<ActionResult<{ operationId: string; matched: number }>> {
  try {
    const principal = await requireOperator();
    const answer = await startBulkOperation(
      getDb(),
      { action, filter, reason },
      auditActorOf(principal),
    );
    return answer.dryRun
      ? { ok: false, message: 'a dry run was not asked for', fieldErrors: {} }
      : { ok: true, data: { operationId: answer.operationId, matched: answer.matched } };
  } catch (error) {
    return refusalResult(error, 'bulk.create');
  }
}

export async function cancelBulkOperationAction(
  operationId: string,
): Promise<ActionResult<BulkOperationView>> {
  try {
    const principal = await requireOperator();
    return {
      ok: true,
      data: await cancelBulkOperation(getDb(), String(operationId), {}, auditActorOf(principal)),
    };
  } catch (error) {
    return refusalResult(error, 'bulk.cancel');
  }
}
