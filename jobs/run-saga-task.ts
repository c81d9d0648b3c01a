import { z } from 'zod';
import { getDb, type Tx } from '@/db/client';
import { applyDecision } from '@/db/apply-decision';
import { databaseNow } from '@/db/clock';
import { claimQueuedJob, completeJobInTransaction } from '@/db/enqueue';
import { DuplicateAppendError } from '@/db/event-store';
import { getFaultSetting } from '@/db/faults';
import { findTaskPause, holdSagaAtPausedTask } from '@/db/pauses';
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
import {
  isStepTask,
  jobKey,
  type CompensationTask,
  type StepTask,
  type Task,
} from '@/lib/saga/model';
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

/**
 * How the task's job reached this worker: delivered (locked) by graphile-worker, or taken
 * inline: right after this worker committed the step before it (claimQueuedJob).
 */
type Delivery = { kind: 'graphile'; job: JobInfo } | { kind: 'inline' };

export interface RunOptions {
  /**
   * Whether to take the saga's next task inline. A stopping worker finishes the task it is in
   * but takes no next one: that job stays queued for the other workers.
   */
  continueInline: () => boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A saga runs at most 4 steps and 3 compensations, so more than this is a bug, not a saga. */
const MAX_INLINE_TASKS = 8;

/**
 * Runs one step or compensation of a saga, then, while the saga goes straight on to another
 * task, that one too: its job is added in the step's transaction as always (durable), and this
 * worker takes it right after the commit instead of waiting for graphile-worker to hand it to
 * someone. That saves the queue's fetch, completion and wake-up per step (latency and CPU);
 * if this worker dies between two steps, the job is in the queue like any other.
 */
export async function runSagaTask(
  task: Task,
  rawPayload: unknown,
  job: JobInfo,
  options: RunOptions = { continueInline: () => true },
): Promise<void> {
  const parsed = jobPayloadSchema.safeParse(rawPayload);
  if (!parsed.success) {
    // Retrying cannot fix a malformed payload; throwing would only burn attempts.
    logger.error({ task, jobId: job.id, payload: rawPayload }, 'malformed job payload dropped');
    return;
  }
  const { sagaId } = parsed.data;
  let next = await runTaskOnce(task, sagaId, { kind: 'graphile', job }, options);
  for (let hops = 0; next && options.continueInline() && hops < MAX_INLINE_TASKS; hops++) {
    next = await runTaskOnce(next, sagaId, { kind: 'inline' }, options);
  }
}

/**
 * In ONE transaction: lock the saga, take the job, check the saga still expects this task (a
 * redelivered or overtaken job is a no-op), do the domain work, append its events, update
 * projections and add the next job. A transient error rolls all of it back and is recorded
 * (and retried, or escalated to a human) in a second transaction. Returns the task this worker
 * should run next inline, if any.
 */
async function runTaskOnce(
  task: Task,
  sagaId: string,
  delivery: Delivery,
  options: RunOptions,
): Promise<Task | null> {
  let jobId = delivery.kind === 'graphile' ? delivery.job.id : 'inline';
  try {
    return await getDb().transaction(async (tx) => {
      // One round trip: the statements are pipelined on the transaction's connection and run in
      // this order, so the job, the fault setting and the order are read after the lock is held.
      const [saga, claimed, fault, order, pause] = await Promise.all([
        lockSaga(tx, sagaId),
        delivery.kind === 'inline' ? claimQueuedJob(tx, sagaId, task) : delivery.job.id,
        getFaultSetting(tx, task),
        loadOrderOfSaga(tx, sagaId),
        findTaskPause(tx, task),
      ]);
      if (!claimed) return null; // a worker holds it, or it was removed: not ours to run
      jobId = claimed;
      if (!isExpected(saga, task, jobId)) return null;
      if (pause) {
        // Paused: the saga waits here, its job off the queue (an inline one is already taken),
        // state and attempts untouched, until the task is resumed (docs/incidents.md).
        await Promise.all([
          holdSagaAtPausedTask(tx, sagaId, task),
          delivery.kind === 'graphile' ? completeJobInTransaction(tx, jobId) : null,
        ]);
        logger.info({ sagaId, task, jobId, event: 'saga.held' }, `${task} is paused: saga waits`);
        return null;
      }
      if (!order)
        throw new Error(`saga ${sagaId} has no order row: projection out of step with events`);
      const ctx = {
        tx,
        saga,
        order,
        attempt: saga.attempts + 1,
        idempotencyKey: jobKey(sagaId, task),
      };
      const decision = await decideTask(task, ctx, fault);
      const inlineNext =
        options.continueInline() && decision.enqueue?.runAt === null ? decision.enqueue.task : null;
      const next = await applyAsJob(tx, saga, decision, delivery, jobId, inlineNext === null);
      logTransition(task, saga, next, jobId);
      return inlineNext;
    });
  } catch (error) {
    if (error instanceof DuplicateAppendError) {
      logger.warn(
        { sagaId, task, jobId, keys: error.keys },
        'task effects already recorded: no-op',
      );
      return null;
    }
    await recordFailedAttempt(task, sagaId, error, delivery);
    return null;
  }
}

function isExpected(saga: Saga | null, task: Task, jobId: string): saga is Saga {
  if (!saga) {
    logger.warn({ task, jobId }, 'job for an unknown saga: no-op');
    return false;
  }
  const expected = expectedTask(saga);
  if (expected !== task || saga.needsIntervention) {
    logger.info(
      { sagaId: saga.sagaId, task, expected, needsIntervention: saga.needsIntervention, jobId },
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
    return isStepFailure(outcome)
      ? stepFailed(ctx.saga, task, outcome)
      : stepSucceeded(ctx.saga, task, outcome);
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
async function recordFailedAttempt(
  task: Task,
  sagaId: string,
  error: unknown,
  delivery: Delivery,
): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  const failedJob = delivery.kind === 'graphile' ? delivery.job.id : 'inline';
  if (!(error instanceof TransientError))
    logger.error({ sagaId, task, jobId: failedJob, err: error }, 'task failed unexpectedly');
  const env = getEnv();
  await getDb().transaction(async (tx) => {
    // The failed transaction put an inline job back in the queue; it is taken again to count
    // the attempt. If a worker was quicker, that worker's run counts instead.
    const [saga, jobId] = await Promise.all([
      lockSaga(tx, sagaId),
      delivery.kind === 'inline' ? claimQueuedJob(tx, sagaId, task) : delivery.job.id,
    ]);
    if (!jobId || !isExpected(saga, task, jobId)) return;
    // The retry's run-at by the database's clock (db/clock.ts), which also runs the job queue.
    const decision = attemptFailed(
      saga,
      task,
      message,
      { maxAttempts: env.RXSAGA_MAX_ATTEMPTS, baseDelayMs: env.RXSAGA_RETRY_BASE_MS },
      await databaseNow(tx),
    );
    const next = await applyAsJob(tx, saga, decision, delivery, jobId, true);
    const level = next.needsIntervention ? 'warn' : 'info';
    logger[level](
      {
        sagaId,
        task,
        attempt: next.attempts,
        needsIntervention: next.needsIntervention,
        error: message,
        jobId,
      },
      next.needsIntervention
        ? 'attempts exhausted: saga needs intervention'
        : 'transient failure: retry scheduled',
    );
  });
}

/**
 * Applies a task's decision as the job it ran as. A graphile job is completed in this
 * transaction: it is gone exactly when the step's effects commit (an inline one was deleted
 * when it was taken). `wake`: whether idle workers are told about the next job.
 */
function applyAsJob(
  tx: Tx,
  saga: Saga,
  decision: Decision,
  delivery: Delivery,
  jobId: string,
  wake: boolean,
): Promise<Saga> {
  return applyDecision(
    tx,
    saga,
    decision,
    { causationId: `job:${jobId}` },
    { completeJobId: delivery.kind === 'graphile' ? jobId : undefined, wake },
  );
}

function logTransition(task: Task, before: Saga, after: Saga, jobId: string): void {
  logger.info(
    {
      sagaId: after.sagaId,
      orderId: after.orderId,
      task,
      from: before.state,
      to: after.state,
      next: expectedTask(after),
      needsIntervention: after.needsIntervention,
      jobId,
      event: 'saga.transition',
    },
    `${task}: ${before.state} → ${after.state}`,
  );
}
