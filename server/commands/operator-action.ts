import { z } from 'zod';
import type { Database, Tx } from '@/db/client';
import { recordAudit, recordAudits, type AuditActor, type AuditEntry } from '@/db/audit';
import {
  applyDecision,
  applyDecisions,
  decidedSaga,
  lockSaga,
  lockSagas,
  type DecidedSaga,
  type LockedJob,
  type StoredSaga,
  yieldToEventLoop,
} from '@/db/saga-store';
import { conflict, invalidInput, notFound } from '@/lib/errors';
import { logger } from '@/server/logger';
import {
  cancelRequested,
  isRefusal,
  retryRequested,
  type Decision,
  type Refusal,
} from '@/lib/saga/decide';
import type { EventMetadata } from '@/lib/saga/events';
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
  if (!stored) throw notFound(notFoundMessage(sagaId));
  const { saga } = stored;
  const decided = DECIDE[name](saga, actor, reason);
  if (isRefusal(decided)) throw conflict(decided.message);
  const { saga: next } = await applyDecision(
    tx,
    stored,
    underOperation(decided, sagaId, operationId),
    {
      actor,
      causationId: requestId,
      ...(operationId ? { operationId } : {}),
    },
  );
  await recordAudit(
    tx,
    { actor, role, requestId },
    auditEntry(name, saga, next, reason, operationId),
  );
  logAction(name, saga, next, actor, operationId);
  return { sagaId, state: next.state, needsIntervention: next.needsIntervention };
}

/** What became of one saga of a batch (a bulk operation's, see applyOperatorActions). */
export interface BatchOutcome {
  sagaId: string;
  outcome: 'succeeded' | 'skipped';
  message: string | null;
}

/**
 * What a batch does to its sagas after the action, in the same transaction (a bulk cancel's
 * compensations, jobs/compensate-batch.ts): given each saga as the action leaves it, a decision
 * on top of it, or null (then the action's next job is queued as usual). Its events are
 * appended under `metadata`.
 */
interface ThenDecide {
  decide: (tx: Tx, acted: readonly StoredSaga[]) => Promise<(Decision | null)[]>;
  metadata: Omit<EventMetadata, 'correlationId'>;
}

/**
 * applyOperatorAction for a batch of one bulk operation's sagas at once, inside the caller's
 * transaction: the same lock, decision, event (operation id in its metadata and idempotency
 * key) and audit entry for each saga, in a fixed number of statements (lockSagas,
 * applyDecisions, recordAudits). A saga that is gone or whose state refuses the action is
 * `skipped` with the message a single action would answer, and left untouched. The jobs it
 * adds get `jobs.priority` and are locked by `jobs.lockedBy` (see applyDecisions): `followUps`
 * are the caller's to run. `then`: what follows the action in the same transaction (see
 * ThenDecide); the audit entries record the action itself, as a single action's do. Anything
 * else throws: the caller rolls the batch back and takes its sagas one at a time.
 */
export async function applyOperatorActions(
  tx: Tx,
  name: OperatorActionName,
  sagaIds: readonly string[],
  reason: string,
  { actor, role, requestId = null }: AuditActor,
  operationId: string,
  jobs: { priority: number; lockedBy: string | null },
  then?: ThenDecide,
): Promise<{ outcomes: BatchOutcome[]; followUps: LockedJob[] }> {
  const locked = new Map((await lockSagas(tx, sagaIds)).map((s) => [s.saga.sagaId, s]));
  const skipped = new Map<string, string>();
  const decided: DecidedSaga[] = [];
  for (const sagaId of sagaIds) {
    const stored = locked.get(sagaId);
    const decision = stored ? DECIDE[name](stored.saga, actor, reason) : null;
    if (!stored || !decision) skipped.set(sagaId, notFoundMessage(sagaId));
    else if (isRefusal(decision)) skipped.set(sagaId, decision.message);
    else decided.push({ stored, decision: underOperation(decision, sagaId, operationId) });
  }
  const metadata = { actor, causationId: requestId, operationId };
  if (then && decided.length > 0) {
    const thens = await then.decide(
      tx,
      decided.map((d) => decidedSaga(d.stored, d.decision, metadata)),
    );
    decided.forEach((d, i) => (d.then = thens[i] ?? null));
  }
  const { acted, locked: followUps } = await applyDecisions(
    tx,
    decided,
    metadata,
    jobs,
    then?.metadata,
  );
  await yieldToEventLoop();
  await recordAudits(
    tx,
    { actor, role, requestId },
    decided.map(({ stored }, i) =>
      auditEntry(name, stored.saga, acted[i]!.saga, reason, operationId),
    ),
  );
  decided.forEach(({ stored }, i) =>
    logAction(name, stored.saga, acted[i]!.saga, actor, operationId),
  );
  const outcomes = sagaIds.map((sagaId): BatchOutcome => {
    const message = skipped.get(sagaId);
    return message === undefined
      ? { sagaId, outcome: 'succeeded', message: null }
      : { sagaId, outcome: 'skipped', message };
  });
  return { outcomes, followUps };
}

const notFoundMessage = (sagaId: string) => `saga ${sagaId} not found`;

/** A bulk operation's id goes into the first event's idempotency key: once per saga, ever. */
function underOperation(decided: Decision, sagaId: string, operationId?: string): Decision {
  if (!operationId) return decided;
  return {
    ...decided,
    events: decided.events.map((e, i) =>
      i === 0 ? { ...e, idempotencyKey: `${sagaId}:bulk:${operationId}` } : e,
    ),
  };
}

function auditEntry(
  name: OperatorActionName,
  saga: Saga,
  next: Saga,
  reason: string,
  operationId?: string,
): AuditEntry {
  return {
    action: `saga.${name}`,
    target: saga.sagaId,
    reason,
    before: snapshot(saga),
    after: { ...snapshot(next), ...(operationId ? { operationId } : {}) },
  };
}

function logAction(
  name: OperatorActionName,
  saga: Saga,
  next: Saga,
  actor: string,
  operationId?: string,
): void {
  logger.info(
    {
      sagaId: saga.sagaId,
      from: saga.state,
      to: next.state,
      actor,
      operationId,
      event: `saga.${name}_requested`,
    },
    `operator ${name}`,
  );
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
