import { z } from 'zod';
import { getDb } from '@/db/client';
import { holdSagaAtPausedTask, readTaskPause, taskPauseStatement } from '@/db/pauses';
import {
  applyDecision,
  DuplicateAppendError,
  loadTask,
  loadTaskStatement,
  pipeline,
  readTaskInput,
  type JobDelivery,
  type StoredSaga,
} from '@/db/saga-store';
import { getEnv } from '@/lib/env';
import { rollFault, type FaultSetting } from '@/lib/domain/fault-injection';
import { logger } from '@/server/logger';
import {
  attemptFailed,
  compensated,
  type CompensationEvent,
  decideInjectedFault,
  isStepFailure,
  stepFailed,
  stepSucceeded,
  type Decision,
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
import { TransientError } from './task-context';
import { cancelOrder } from './tasks/cancel-order';
import { cancelPrescription } from './tasks/cancel-prescription';
import { createPrescription } from './tasks/create-prescription';
import { initiateShipment } from './tasks/initiate-shipment';
import { releaseInventory } from './tasks/release-inventory';
import { reserveInventory } from './tasks/reserve-inventory';

export const STEP_WORK: Record<StepTask, StepHandler> = {
  'create-prescription': createPrescription,
  'reserve-inventory': reserveInventory,
  'initiate-shipment': initiateShipment,
};
export const COMPENSATION_WORK: Record<CompensationTask, CompensationHandler> = {
  'release-inventory': releaseInventory,
  'cancel-prescription': cancelPrescription,
  'cancel-order': cancelOrder,
};

const jobPayloadSchema = z.object({ sagaId: z.uuid() });

export interface JobInfo {
  id: string;
}

/**
 * How a task run reached this worker and what it does about the next one, as one value:
 * - `job`: delivered (locked) by graphile-worker, or taken inline right after this worker
 *   committed the step before it. Either way the job's row is deleted in the task's own
 *   transaction (db/saga-store/graphile-jobs.ts, takeJobCte), so it is gone exactly when the
 *   task's effects commit.
 * - `continueInline`: whether this worker may run the saga's next task itself right after the
 *   commit; if it will, nobody else is woken for that job (see `takesNext`).
 */
interface Delivery {
  job: JobDelivery;
  continueInline: () => boolean;
}

const workOf = (task: Task) =>
  isStepTask(task) ? STEP_WORK[task] : COMPENSATION_WORK[task as CompensationTask];

/** The task this worker runs next, inline: the decision's next job when it is due at once. */
function takesNext(delivery: Delivery, decision: Decision): Task | null {
  return delivery.continueInline() && decision.enqueue?.runAt === null
    ? decision.enqueue.task
    : null;
}

const jobIdOf = (delivery: Delivery) =>
  delivery.job.kind === 'graphile' ? delivery.job.id : 'inline';

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
  const { continueInline } = options;
  let next = await runTaskOnce(task, sagaId, {
    job: { kind: 'graphile', id: job.id },
    continueInline,
  });
  for (let hops = 0; next && continueInline() && hops < MAX_INLINE_TASKS; hops++) {
    next = await runTaskOnce(next, sagaId, { job: { kind: 'inline' }, continueInline });
  }
}

/**
 * In ONE transaction: load (lock the saga, take the job, read the order, the fault setting, the
 * task's pause and the task's own read: one round trip), check the saga still expects this
 * task (a redelivered or overtaken job is a no-op), decide (the domain decision on what was
 * read, then the pure saga decision), apply (the events, the projections, the saga row and
 * the next job: one round trip). A transient error rolls all of it back and is recorded (and
 * retried, or escalated to a human) in a second transaction. Returns the task this worker
 * should run next inline, if any.
 */
async function runTaskOnce(task: Task, sagaId: string, delivery: Delivery): Promise<Task | null> {
  let jobId = jobIdOf(delivery);
  const work = workOf(task);
  try {
    return await getDb().transaction(async (tx) => {
      // In this order, in one round trip: the task's pause is read (FOR SHARE, see
      // db/pauses.ts) and the task's read made behind the saga lock.
      const [rows, pauseRows, read] = await pipeline(
        loadTaskStatement(tx, sagaId, task, delivery.job),
        taskPauseStatement(tx, task),
        work.read?.(tx, sagaId) ?? Promise.resolve(undefined),
      );
      const input = readTaskInput(rows, task, delivery.job);
      if (!input.jobId) return null; // a worker holds it, or it was removed: not ours to run
      jobId = input.jobId;
      const { stored, order } = input;
      if (!isExpected(stored, task, jobId)) return null;
      const { saga } = stored;
      if (readTaskPause(task, pauseRows)) {
        // Paused: the saga waits here, its job off the queue (taken with the load), state and
        // attempts untouched, until the task is resumed (docs/incidents.md).
        await holdSagaAtPausedTask(tx, sagaId, task);
        logger.info({ sagaId, task, jobId, event: 'saga.held' }, `${task} is paused: saga waits`);
        return null;
      }
      if (!order)
        throw new Error(`saga ${sagaId} has no order row: projection out of step with events`);
      const ctx = { saga, order, attempt: saga.attempts + 1, idempotencyKey: jobKey(sagaId, task) };
      const decision = await decideTask(task, ctx, read, input.fault);
      const next = takesNext(delivery, decision);
      const { saga: after } = await applyDecision(
        tx,
        stored,
        decision,
        { causationId: `job:${jobId}` },
        { wake: next === null, now: input.now ?? undefined },
      );
      logTransition(task, saga, after, jobId);
      return next;
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

function isExpected(stored: StoredSaga | null, task: Task, jobId: string): stored is StoredSaga {
  const saga = stored?.saga;
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

async function decideTask(
  task: Task,
  ctx: TaskContext,
  read: unknown,
  fault: FaultSetting,
): Promise<Decision> {
  if (fault.latencyMs > 0) await sleep(fault.latencyMs);
  const injected = decideInjectedFault(ctx.saga, task, rollFault(fault, Math.random()));
  if (injected.kind === 'transient') throw new TransientError(injected.message);
  if (injected.kind === 'decided') return injected.decision;

  if (isStepTask(task)) {
    const outcome = STEP_WORK[task].decide(ctx, read);
    return isStepFailure(outcome)
      ? stepFailed(ctx.saga, task, outcome)
      : stepSucceeded(ctx.saga, task, outcome);
  }
  return compensated(ctx.saga, task, workOf(task).decide(ctx, read) as CompensationEvent);
}

/** Counts the attempt against the saga: retried with backoff, or flagged when attempts run out. */
async function recordFailedAttempt(
  task: Task,
  sagaId: string,
  error: unknown,
  delivery: Delivery,
): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  const failedJob = jobIdOf(delivery);
  if (!(error instanceof TransientError))
    logger.error({ sagaId, task, jobId: failedJob, err: error }, 'task failed unexpectedly');
  const env = getEnv();
  await getDb().transaction(async (tx) => {
    // The failed transaction put the job back in the queue; it is taken again to count the
    // attempt. If a worker was quicker with an inline one, that worker's run counts instead.
    const { stored, jobId, now } = await loadTask(tx, sagaId, task, delivery.job);
    if (!jobId || !isExpected(stored, task, jobId) || !now) return;
    const { saga } = stored;
    // The retry's run-at by the database's clock (db/clock.ts), which also runs the job queue.
    const decision = attemptFailed(
      saga,
      task,
      message,
      { maxAttempts: env.RXSAGA_MAX_ATTEMPTS, baseDelayMs: env.RXSAGA_RETRY_BASE_MS },
      now,
    );
    const { saga: next } = await applyDecision(
      tx,
      stored,
      decision,
      { causationId: `job:${jobId}` },
      { now },
    );
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
