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
  const run = groupCommitOf(getEnv().RXSAGA_GROUP_COMMIT);
  let next = await run(task, sagaId, {
    job: { kind: 'graphile', id: job.id },
    continueInline,
  });
  for (let hops = 0; next && continueInline() && hops < MAX_INLINE_TASKS; hops++) {
    next = await run(next, sagaId, { job: { kind: 'inline' }, continueInline });
  }
}

type RunTask = (task: Task, sagaId: string, delivery: Delivery) => Promise<Task | null>;

let groupCommit: { size: number; run: RunTask } | undefined;

/** How this process runs a task: alone (size 1), or through the group commit of that size. */
function groupCommitOf(size: number): RunTask {
  if (size <= 1) return runTaskOnce;
  if (groupCommit?.size !== size) groupCommit = { size, run: groupCommitter(size) };
  return groupCommit.run;
}

interface Submitted {
  sagaId: string;
  delivery: Delivery;
  resolve: (next: Task | null) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit (RXSAGA_GROUP_COMMIT > 1): the runs of one task that this process has waiting
 * go through one transaction (runTaskBatch), at most `size` at a time. One batch per task is in
 * flight at a time; what arrives meanwhile waits for the next one, so the sagas that go on
 * inline after a batch commits form the next batch of their next task together (as graphile-
 * worker hands out jobs one at a time, batches form only from what is waiting, without a timer).
 */
function groupCommitter(size: number): RunTask {
  const waiting = new Map<Task, Submitted[]>();
  const inFlight = new Set<Task>();
  const drain = async (task: Task) => {
    const queue = waiting.get(task)!;
    while (queue.length > 0) {
      const batch = takeBatch(queue, size);
      if (batch.length === 1) {
        const [one] = batch;
        await runTaskOnce(task, one!.sagaId, one!.delivery).then(one!.resolve, one!.reject);
      } else {
        const outcomes = await runTaskBatch(task, batch);
        outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.next) : batch[i]!.reject(o.error)));
      }
      // One turn of the event loop: the sagas just resolved submit their next tasks first.
      await new Promise((resolve) => setImmediate(resolve));
    }
    inFlight.delete(task);
  };
  return (task, sagaId, delivery) =>
    new Promise((resolve, reject) => {
      const queue = waiting.get(task) ?? [];
      waiting.set(task, queue);
      queue.push({ sagaId, delivery, resolve, reject });
      if (inFlight.has(task)) return;
      inFlight.add(task);
      // After this turn of the event loop: the runs submitted in it go together.
      setImmediate(() => void drain(task));
    });
}

/**
 * Up to `size` runs from the queue, at most one per saga (a saga's second run waits for the next
 * batch: it would decide on the state the first run is about to change).
 */
function takeBatch(queue: Submitted[], size: number): Submitted[] {
  const batch: Submitted[] = [];
  const sagas = new Set<string>();
  for (let i = 0; i < queue.length && batch.length < size;) {
    const item = queue[i]!;
    if (sagas.has(item.sagaId)) {
      i++;
      continue;
    }
    sagas.add(item.sagaId);
    batch.push(item);
    queue.splice(i, 1);
  }
  return batch;
}

type BatchOutcome = { ok: true; next: Task | null } | { ok: false; error: unknown };

/** What one saga of a batch makes of its load: nothing to do, a decision, or a failed attempt. */
type Planned =
  | { kind: 'none' }
  | { kind: 'decided'; stored: StoredSaga; decision: Decision; jobId: string; next: Task | null }
  | { kind: 'failed'; stored: StoredSaga; decision: Decision; jobId: string; message: string };

/**
 * One task of several sagas in ONE transaction, with the same outcome for each saga as
 * runTaskOnce would give it alone: load every saga (locked in saga id order, then the task's
 * pause, then the locks the task's reads take, in key order, then the reads: one round trip),
 * decide each, apply every decision (one round trip), commit. A saga whose decision fails (a
 * transient error, an unexpected one) has its failed attempt recorded in the same transaction,
 * as recordFailedAttempt would record it after a rollback. A statement that fails (a repeated
 * append, a lost race, a deadlock, a lost connection) rolls the batch back, and each of its
 * sagas then runs alone through runTaskOnce: a failing saga never takes the others with it.
 */
async function runTaskBatch(task: Task, batch: readonly Submitted[]): Promise<BatchOutcome[]> {
  const work = workOf(task);
  // Saga id order: two batches that share a saga lock it in the same order, never crosswise.
  const order = batch.map((_, i) => i).sort((a, b) => cmp(batch[a]!.sagaId, batch[b]!.sagaId));
  const planned: Planned[] = [];
  try {
    await getDb().transaction(async (tx) => {
      const sagaIds = order.map((i) => batch[i]!.sagaId);
      const loads = order.map((i) =>
        loadTaskStatement(tx, batch[i]!.sagaId, task, batch[i]!.delivery.job),
      );
      // As runTaskOnce's load, for every saga: the saga locks, then the pause, then the reads.
      const answers = await pipeline(
        ...([
          ...loads,
          taskPauseStatement(tx, task),
          work.lockMany?.(tx, sagaIds) ?? Promise.resolve(undefined),
          ...sagaIds.map((id) => work.read?.(tx, id) ?? Promise.resolve(undefined)),
        ] as PromiseLike<unknown>[]),
      );
      const inputs = order.map((i, k) =>
        readTaskInput(answers[k] as Record<string, unknown>[], task, batch[i]!.delivery.job),
      );
      const pauseRows = answers[loads.length] as Parameters<typeof readTaskPause>[1];
      const reads = answers.slice(loads.length + 2);
      const paused = readTaskPause(task, pauseRows);
      const env = getEnv();
      for (const [k, i] of order.entries()) {
        const { delivery, sagaId } = batch[i]!;
        const input = inputs[k]!;
        const jobId = input.jobId;
        if (!jobId || !isExpected(input.stored, task, jobId)) {
          planned[i] = { kind: 'none' };
          continue;
        }
        const stored = input.stored;
        if (paused) {
          await holdSagaAtPausedTask(tx, sagaId, task);
          logger.info({ sagaId, task, jobId, event: 'saga.held' }, `${task} is paused: saga waits`);
          planned[i] = { kind: 'none' };
          continue;
        }
        try {
          if (!input.order)
            throw new Error(`saga ${sagaId} has no order row: projection out of step with events`);
          const saga = stored.saga;
          const ctx = {
            saga,
            order: input.order,
            attempt: saga.attempts + 1,
            idempotencyKey: jobKey(sagaId, task),
          };
          const decision = await decideTask(task, ctx, reads[k], input.fault);
          planned[i] = {
            kind: 'decided',
            stored,
            decision,
            jobId,
            next: takesNext(delivery, decision),
          };
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (!(error instanceof TransientError))
            logger.error({ sagaId, task, jobId, err: error }, 'task failed unexpectedly');
          const decision = attemptFailed(
            stored.saga,
            task,
            message,
            { maxAttempts: env.RXSAGA_MAX_ATTEMPTS, baseDelayMs: env.RXSAGA_RETRY_BASE_MS },
            input.now!,
          );
          planned[i] = { kind: 'failed', stored, decision, jobId, message };
        }
      }
      // Every apply is sent before the first answer (see applyDecision: with `now` given, its
      // statements go out when it is called), in saga id order; each is awaited.
      const applied = await Promise.allSettled(
        order.map((i, k) => {
          const p = planned[i]!;
          if (p.kind === 'none') return Promise.resolve(null);
          return applyDecision(
            tx,
            p.stored,
            p.decision,
            { causationId: `job:${p.jobId}` },
            { wake: p.kind === 'failed' || p.next === null, now: inputs[k]!.now! },
          );
        }),
      );
      const failed = applied.find((a) => a.status === 'rejected');
      if (failed) throw failed.reason;
      order.forEach((i, k) => {
        const p = planned[i]!;
        const after = applied[k]!.status === 'fulfilled' ? applied[k]!.value : null;
        if (!after) return;
        if (p.kind === 'decided') logTransition(task, p.stored.saga, after.saga, p.jobId);
        else if (p.kind === 'failed') logFailedAttempt(task, after.saga, p.message, p.jobId);
      });
    });
  } catch (error) {
    logger.info(
      { task, sagas: batch.length, err: error },
      'group commit rolled back: each saga runs alone',
    );
    return Promise.all(
      batch.map(({ sagaId, delivery }) =>
        runTaskOnce(task, sagaId, delivery).then(
          (next): BatchOutcome => ({ ok: true, next }),
          (e: unknown): BatchOutcome => ({ ok: false, error: e }),
        ),
      ),
    );
  }
  return batch.map((_, i) => {
    const p = planned[i]!;
    return { ok: true, next: p.kind === 'decided' ? p.next : null };
  });
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

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
    logFailedAttempt(task, next, message, jobId);
  });
}

function logFailedAttempt(task: Task, next: Saga, message: string, jobId: string): void {
  const level = next.needsIntervention ? 'warn' : 'info';
  logger[level](
    {
      sagaId: next.sagaId,
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
