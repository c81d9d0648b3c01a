import { z } from 'zod';
import type { Database } from '@/db/client';
import { recordAudit, type AuditActor } from '@/db/audit';
import { applyDecision, lockSaga } from '@/db/saga-store';
import { conflict, invalidInput, notFound } from '@/lib/errors';
import { logger } from '@/lib/logger';
import {
  cancelRequested,
  isRefusal,
  retryRequested,
  type Decision,
  type Refusal,
} from '@/lib/saga/decide';
import type { Saga } from '@/lib/saga/saga';

export const operatorActionSchema = z.object({
  reason: z.string().trim().min(3, 'give a reason (at least 3 characters)').max(2000),
});

export interface OperatorActionResult {
  sagaId: string;
  state: Saga['state'];
  needsIntervention: boolean;
}

type Decide = (saga: Saga, actor: string, reason: string) => Decision | Refusal;

/** Who acts; a bare name means an operator with no request id (scripts, tests). */
export type OperatorActor = AuditActor | string;

const snapshot = (s: Saga) => ({
  state: s.state,
  needsIntervention: s.needsIntervention,
  interventionReason: s.interventionReason,
});

/**
 * Retry and cancel share their shape: lock the saga, let the pure core decide (or refuse with
 * a conflict), record the action as an event with actor and reason, enqueue what follows.
 * The row lock makes a retry racing the worker, or two operators at once, take turns. The
 * audit row is written in the same transaction: no action without its record, nor the reverse.
 */
async function operatorAction(
  name: 'retry' | 'cancel',
  decide: Decide,
  db: Database,
  sagaId: string,
  body: unknown,
  by: OperatorActor,
): Promise<OperatorActionResult> {
  const {
    actor,
    role,
    requestId = null,
  } = typeof by === 'string' ? { actor: by, role: 'operator' as const } : by;
  const parsed = operatorActionSchema.safeParse(body);
  if (!parsed.success) throw invalidInput(parsed.error, `invalid ${name} request`);
  if (!z.uuid().safeParse(sagaId).success) throw notFound(`saga ${sagaId} not found`);
  return db.transaction(async (tx) => {
    const saga = await lockSaga(tx, sagaId);
    if (!saga) throw notFound(`saga ${sagaId} not found`);
    const decision = decide(saga, actor, parsed.data.reason);
    if (isRefusal(decision)) throw conflict(decision.message);
    const next = await applyDecision(tx, saga, decision, { actor, causationId: requestId });
    await recordAudit(
      tx,
      { actor, role, requestId },
      {
        action: `saga.${name}`,
        target: sagaId,
        reason: parsed.data.reason,
        before: snapshot(saga),
        after: snapshot(next),
      },
    );
    logger.info(
      { sagaId, from: saga.state, to: next.state, actor, event: `saga.${name}_requested` },
      `operator ${name}`,
    );
    return { sagaId, state: next.state, needsIntervention: next.needsIntervention };
  });
}

/** Re-runs the step or compensation the saga is stuck on, with fresh attempts. */
export const retrySaga = (db: Database, sagaId: string, body: unknown, by: OperatorActor) =>
  operatorAction('retry', retryRequested, db, sagaId, body, by);

/** Stops an in-flight saga and compensates what it did, newest first. */
export const cancelSaga = (db: Database, sagaId: string, body: unknown, by: OperatorActor) =>
  operatorAction('cancel', cancelRequested, db, sagaId, body, by);
