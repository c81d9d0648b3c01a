import { z } from 'zod';
import type { Database, Tx } from '@/db/client';
import { recordAudit, type AuditActor } from '@/db/audit';
import { applyDecision, lockSaga } from '@/db/saga-store';
import { conflict, invalidInput, notFound } from '@/lib/errors';
import { logger } from '@/server/logger';
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

const DECIDE: Record<OperatorActionName, Decide> = {
  retry: retryRequested,
  cancel: cancelRequested,
};

export type OperatorActionName = 'retry' | 'cancel';

/**
 * Retry and cancel share their shape: lock the saga, let the pure core decide (or refuse with
 * a conflict), record the action as an event with actor and reason, enqueue what follows.
 * The row lock makes a retry racing the worker, or two operators at once, take turns. The
 * audit row is written in the same transaction: no action without its record, nor the reverse.
 * Runs inside the caller's transaction: a single action (below) or one saga of a bulk
 * operation (db/bulk-operations.ts), whose id goes into the event's metadata and idempotency
 * key, so one operation can never act on one saga twice.
 */
export async function applyOperatorAction(
  tx: Tx,
  name: OperatorActionName,
  sagaId: string,
  reason: string,
  { actor, role, requestId = null }: AuditActor,
  operationId?: string,
): Promise<OperatorActionResult> {
  const stored = await lockSaga(tx, sagaId);
  if (!stored) throw notFound(`saga ${sagaId} not found`);
  const { saga } = stored;
  const decided = DECIDE[name](saga, actor, reason);
  if (isRefusal(decided)) throw conflict(decided.message);
  const decision = operationId
    ? {
        ...decided,
        events: decided.events.map((e, i) =>
          i === 0 ? { ...e, idempotencyKey: `${sagaId}:bulk:${operationId}` } : e,
        ),
      }
    : decided;
  const { saga: next } = await applyDecision(tx, stored, decision, {
    actor,
    causationId: requestId,
    ...(operationId ? { operationId } : {}),
  });
  await recordAudit(
    tx,
    { actor, role, requestId },
    {
      action: `saga.${name}`,
      target: sagaId,
      reason,
      before: snapshot(saga),
      after: { ...snapshot(next), ...(operationId ? { operationId } : {}) },
    },
  );
  logger.info(
    {
      sagaId,
      from: saga.state,
      to: next.state,
      actor,
      operationId,
      event: `saga.${name}_requested`,
    },
    `operator ${name}`,
  );
  return { sagaId, state: next.state, needsIntervention: next.needsIntervention };
}

async function operatorAction(
  name: OperatorActionName,
  db: Database,
  sagaId: string,
  body: unknown,
  by: OperatorActor,
): Promise<OperatorActionResult> {
  const who = typeof by === 'string' ? { actor: by, role: 'operator' as const } : by;
  const parsed = operatorActionSchema.safeParse(body);
  if (!parsed.success) throw invalidInput(parsed.error, `invalid ${name} request`);
  if (!z.uuid().safeParse(sagaId).success) throw notFound(`saga ${sagaId} not found`);
  return db.transaction((tx) => applyOperatorAction(tx, name, sagaId, parsed.data.reason, who));
}

/** Re-runs the step or compensation the saga is stuck on, with fresh attempts. */
export const retrySaga = (db: Database, sagaId: string, body: unknown, by: OperatorActor) =>
  operatorAction('retry', db, sagaId, body, by);

/** Stops an in-flight saga and compensates what it did, newest first. */
export const cancelSaga = (db: Database, sagaId: string, body: unknown, by: OperatorActor) =>
  operatorAction('cancel', db, sagaId, body, by);
