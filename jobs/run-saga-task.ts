import { z } from 'zod';
import { getDb } from '@/db/client';
import { applyDecision } from '@/db/apply-decision';
import { DuplicateAppendError } from '@/db/event-store';
import { getFaultSetting } from '@/db/faults';
import { lockSaga } from '@/db/projections';
import { getEnv } from '@/lib/env';
import { rollFault, type FaultSetting } from '@/lib/domain/fault-injection';
import { logger } from '@/lib/logger';
import {
  attemptFailed,
  compensated,
  interventionRequired,
  isStepFailure,
  stepFailed,
  stepSucceeded,
  type Decision,
  type StepFailureEvent,
} from '@/lib/saga/decide';
import { isStepTask, jobKey, type CompensationTask, type StepTask, type Task } from '@/lib/saga/model';
import { expectedTask, type Saga } from '@/lib/saga/saga';
import type { CompensationHandler, StepHandler, TaskContext } from './task-context';
import { loadOrderOfSaga, TransientError } from './task-context';
import { cancelOrder } from './tasks/cancel-order';
import { cancelPrescription } from './tasks/cancel-prescription';
import { createPrescription } from './tasks/create-prescription';
import { initiateShipment } from './tasks/initiate-shipment';
import { releaseInventory } from './tasks/release-inventory';
import { reserveInventory } from './tasks/reserve-inventory';

const STEP_HANDLERS: Record<StepTask, StepHandler> = {
  'create-prescription': createPrescription,
  'reserve-inventory': reserveInventory,
  'initiate-shipment': initiateShipment,
};
const COMPENSATION_HANDLERS: Record<CompensationTask, CompensationHandler> = {
  'release-inventory': releaseInventory,
  'cancel-prescription': cancelPrescription,
  'cancel-order': cancelOrder,
};

const jobPayloadSchema = z.object({ sagaId: z.uuid() });

export interface JobInfo {
  id: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one step or compensation of a saga. In ONE transaction: lock the saga, check it still
 * expects this task (a redelivered or overtaken job is a no-op), do the domain work, append its
 * events, update projections and add the next job. A transient error rolls all of it back and
 * is recorded (and retried, or escalated to a human) in a second transaction.
 */
export async function runSagaTask(task: Task, rawPayload: unknown, job: JobInfo): Promise<void> {
  const parsed = jobPayloadSchema.safeParse(rawPayload);
  if (!parsed.success) {
    // Retrying cannot fix a malformed payload; throwing would only burn attempts.
    logger.error({ task, jobId: job.id, payload: rawPayload }, 'malformed job payload dropped');
    return;
  }
  const { sagaId } = parsed.data;
  try {
    await getDb().transaction(async (tx) => {
      // One round trip: the three statements are pipelined on the transaction's connection and
      // run in this order, so the fault setting and the order are read after the lock is held.
      const [saga, fault, order] = await Promise.all([
        lockSaga(tx, sagaId),
        getFaultSetting(tx, task),
        loadOrderOfSaga(tx, sagaId),
      ]);
      if (!isExpected(saga, task, job)) return;
      if (!order) throw new Error(`saga ${sagaId} has no order row: projection out of step with events`);
      const ctx = { tx, saga, order, attempt: saga.attempts + 1, idempotencyKey: jobKey(sagaId, task) };
      const decision = await decideTask(task, ctx, fault);
      // The job is completed in this transaction: it is gone exactly when the step's effects commit.
      const next = await applyDecision(tx, saga, decision, { causationId: `job:${job.id}` }, { completeJobId: job.id });
      logTransition(task, saga, next, job);
    });
  } catch (error) {
    if (error instanceof DuplicateAppendError) {
      logger.warn({ sagaId, task, jobId: job.id, keys: error.keys }, 'task effects already recorded: no-op');
      return;
    }
    await recordFailedAttempt(task, sagaId, error, job);
  }
}

function isExpected(saga: Saga | null, task: Task, job: JobInfo): saga is Saga {
  if (!saga) {
    logger.warn({ task, jobId: job.id }, 'job for an unknown saga: no-op');
    return false;
  }
  const expected = expectedTask(saga);
  if (expected !== task || saga.needsIntervention) {
    logger.info(
      { sagaId: saga.sagaId, task, expected, needsIntervention: saga.needsIntervention, jobId: job.id },
      'saga does not expect this task: no-op',
    );
    return false;
  }
  return true;
}

async function decideTask(task: Task, ctx: TaskContext, fault: FaultSetting): Promise<Decision> {
  if (fault.latencyMs > 0) await sleep(fault.latencyMs);
  const injected = rollFault(fault, Math.random());
  if (injected === 'transient') throw new TransientError(`injected transient fault in ${task}`);

  if (isStepTask(task)) {
    if (injected === 'failure') {
      return stepFailed(ctx.saga, task, injectedFailureEvent(task, ctx.saga.orderId));
    }
    const outcome = await STEP_HANDLERS[task](ctx);
    return isStepFailure(outcome) ? stepFailed(ctx.saga, task, outcome) : stepSucceeded(ctx.saga, task, outcome);
  }
  if (injected === 'failure') {
    // A compensation must not be skipped: a human decides what to do with a saga that cannot unwind.
    return interventionRequired(ctx.saga, `${task} failed: injected fault`, ctx.attempt);
  }
  return compensated(ctx.saga, task, await COMPENSATION_HANDLERS[task](ctx));
}

function injectedFailureEvent(task: StepTask, orderId: string): StepFailureEvent {
  const payload = { orderId, reason: `injected fault in ${task}`, code: 'INJECTED_FAULT' };
  switch (task) {
    case 'create-prescription':
      return { type: 'order.prescription_failed', payload };
    case 'reserve-inventory':
      return { type: 'order.inventory_reservation_failed', payload: { ...payload, shortages: [] } };
    case 'initiate-shipment':
      return { type: 'order.shipment_initiation_failed', payload };
  }
}

/** Counts the attempt against the saga: retried with backoff, or flagged when attempts run out. */
async function recordFailedAttempt(task: Task, sagaId: string, error: unknown, job: JobInfo): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof TransientError)) logger.error({ sagaId, task, jobId: job.id, err: error }, 'task failed unexpectedly');
  const env = getEnv();
  await getDb().transaction(async (tx) => {
    const saga = await lockSaga(tx, sagaId);
    if (!isExpected(saga, task, job)) return;
    const decision = attemptFailed(
      saga,
      task,
      message,
      { maxAttempts: env.RXSAGA_MAX_ATTEMPTS, baseDelayMs: env.RXSAGA_RETRY_BASE_MS },
      new Date(),
    );
    const next = await applyDecision(tx, saga, decision, { causationId: `job:${job.id}` }, { completeJobId: job.id });
    const level = next.needsIntervention ? 'warn' : 'info';
    logger[level](
      { sagaId, task, attempt: next.attempts, needsIntervention: next.needsIntervention, error: message, jobId: job.id },
      next.needsIntervention ? 'attempts exhausted: saga needs intervention' : 'transient failure: retry scheduled',
    );
  });
}

function logTransition(task: Task, before: Saga, after: Saga, job: JobInfo): void {
  logger.info(
    {
      sagaId: after.sagaId,
      orderId: after.orderId,
      task,
      from: before.state,
      to: after.state,
      next: expectedTask(after),
      needsIntervention: after.needsIntervention,
      jobId: job.id,
      event: 'saga.transition',
    },
    `${task}: ${before.state} → ${after.state}`,
  );
}
