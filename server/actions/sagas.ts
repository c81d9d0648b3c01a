'use server';

import { getDb } from '@/db/client';
import { requireOperator } from '@/server/auth/guards';
import { auditActorOf } from '@/lib/auth/principal';
import {
  cancelSaga,
  retrySaga,
  type OperatorActionResult,
} from '@/server/commands/operator-action';
import { refusalResult, type ActionResult } from '@/server/web/action-result';

/**
 * Retry and cancel from the dashboard: the same command handlers as the API routes, with the
 * signed-in operator as actor. Arguments come from the browser: the commands validate them.
 */
export async function retrySagaAction(
  sagaId: string,
  reason: string,
): Promise<ActionResult<OperatorActionResult>> {
  return runOperatorCommand(retrySaga, 'saga.retry', sagaId, reason);
}

export async function cancelSagaAction(
  sagaId: string,
  reason: string,
): Promise<ActionResult<OperatorActionResult>> {
  return runOperatorCommand(cancelSaga, 'saga.cancel', sagaId, reason);
}

// Not exported: a 'use server' module's exports are callable from the browser, and this takes
// the command to run as an argument.
async function runOperatorCommand(
  command: typeof retrySaga | typeof cancelSaga,
  action: 'saga.retry' | 'saga.cancel',
  sagaId: string,
  reason: string,
): Promise<ActionResult<OperatorActionResult>> {
  try {
    const principal = await requireOperator();
    return {
      ok: true,
      data: await command(getDb(), String(sagaId), { reason }, auditActorOf(principal)),
    };
  } catch (error) {
    return refusalResult(error, action);
  }
}
