import { z } from 'zod';
import { type AuditActor, type AuditRole } from '@/db/audit';
import { addBackgroundJob } from '@/db/background-jobs';
import {
  BULK_JOB_PRIORITY,
  bulkJobKey,
  FOLLOW_UP_PRIORITY,
  claimPendingItems,
  finishOperation,
  lockRunningOperation,
  recordItemOutcomes,
  RUN_BULK_OPERATION_TASK,
} from '@/db/bulk-operations';
import { getDb, type Tx } from '@/db/client';
import { DuplicateAppendError, type LockedJob } from '@/db/saga-store';
import {
  applyOperatorAction,
  applyOperatorActions,
  type BatchOutcome,
  type OperatorActionName,
} from '@/server/commands/operator-action';
import { AppError } from '@/lib/errors';
import { getEnv } from '@/lib/env';
import { logger } from '@/server/logger';
import { decideCompensations } from './compensate-batch';
import { runSagaTask } from './run-saga-task';

const payloadSchema = z.object({ operationId: z.uuid() });

/**
 * Sagas per transaction: small enough that a cancel waits for little, large enough to be cheap.
 * A bulk cancel's batch writes about ten events and five rows per saga and commits them at
 * once, and new sagas' commits queue behind that commit (its WAL flush, under the lock every
 * committing NOTIFY takes): 25 rather than 100 makes each such stall a quarter as long, for
 * about 0.5 ms more PostgreSQL CPU per saga (docs/incidents.md, Scale).
 */
const BULK_BATCH_SIZE = 25;
/**
 * One job run works this long, then queues the next run (behind the saga steps that are due,
 * see BULK_JOB_PRIORITY), so saga jobs are not kept waiting.
 */
const RUN_MS = 2_000;

type BatchResult =
  { result: 'processed'; followUps: LockedJob[] } | { result: 'empty' | 'stopped' };

/**
 * The worker id a batch's follow-up jobs are locked by: the operation's own, which no
 * heartbeat lists. Should this job die (or take longer than RXSAGA_WORKER_DEAD_SECONDS over
 * them), the sweeper releases them as it releases a dead worker's jobs (jobs/sweeper.ts), and
 * any worker runs them: their saga's row lock and the job's deletion in the task's transaction
 * keep each task once.
 */
export const followUpLockId = (operationId: string) => `${RUN_BULK_OPERATION_TASK}:${operationId}`;

export interface BulkRunOptions {
  /** Whether the follow-up tasks may go on inline (false once the worker is stopping). */
  continueInline: () => boolean;
}

/**
 * The background side of a bulk operation: batches, each followed by its follow-up tasks,
 * until its sagas are done, it is cancelled, or this run's time is up (then the job is queued
 * again, under the same key).
 */
export async function runBulkOperation(
  rawPayload: unknown,
  { continueInline }: BulkRunOptions = { continueInline: () => true },
): Promise<void> {
  const parsed = payloadSchema.safeParse(rawPayload);
  if (!parsed.success) {
    logger.error({ payload: rawPayload }, 'malformed bulk operation job dropped');
    return;
  }
  const { operationId } = parsed.data;
  const rate = getEnv().RXSAGA_BULK_RATE;
  const started = Date.now();
  const until = started + RUN_MS;
  for (let batches = 1; ; batches++) {
    const batch = await runBulkBatch(operationId, BULK_BATCH_SIZE, followUpLockId(operationId));
    if (batch.result === 'processed') await runFollowUps(batch.followUps, continueInline);
    const { result } = batch;
    if (result === 'stopped') return;
    if (result === 'empty') {
      if (await finishOperation(getDb(), operationId, 'done'))
        logger.info({ operationId, event: 'bulk.done' }, 'bulk operation done');
      return;
    }
    // At most RXSAGA_BULK_RATE sagas per second: wait out what this run is ahead by (here: a
    // job delayed instead would wait for the next poll, up to a second late).
    const ahead = started + (batches * BULK_BATCH_SIZE * 1000) / rate - Date.now();
    if (ahead > 0) await sleep(ahead);
    // A stopping worker takes no next batch: the next run goes on where this one stopped.
    if (Date.now() >= until || !continueInline()) {
      await addBackgroundJob(
        getDb(),
        RUN_BULK_OPERATION_TASK,
        { operationId },
        { key: bulkJobKey(operationId), priority: BULK_JOB_PRIORITY },
      );
      return;
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs a batch's follow-up tasks (a cancelled saga's compensations, a retried step). They are
 * the operation's work, so the operation runs them: its batch adds their jobs locked (due for
 * no worker), and this job runs them right after the batch commits, RXSAGA_BULK_CONCURRENCY at
 * a time, each saga's next tasks inline as a worker would (runSagaTask). So however many sagas
 * an operation touches, its follow-up work takes that many connections and this job's one
 * worker slot: the other slots, and the job queue, stay free for new sagas' steps. A task that
 * fails is recorded by runSagaTask as any task's failure is; one that throws even that (the
 * database gone) leaves its job locked, and the sweeper releases it (see followUpLockId).
 */
async function runFollowUps(jobs: readonly LockedJob[], continueInline: () => boolean) {
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      try {
        await runSagaTask(job.task, { sagaId: job.sagaId }, { id: job.id }, { continueInline });
      } catch (err) {
        logger.warn(
          { err, sagaId: job.sagaId, task: job.task, jobId: job.id },
          'bulk operation: follow-up task not run; the sweeper releases its job',
        );
      }
    }
  };
  const lanes = Math.min(getEnv().RXSAGA_BULK_CONCURRENCY, jobs.length);
  await Promise.all(Array.from({ length: lanes }, lane));
}

/**
 * One batch in one transaction: claim the next sagas (SKIP LOCKED), act on all of them as
 * single operator actions would, in a fixed number of statements (applyOperatorActions),
 * record each outcome. The outcomes commit with the sagas' events, or nothing does: a worker
 * killed mid-batch leaves those sagas for the next batch, never half-done. Should acting on the
 * batch at once fail (an unexpected error on one saga, a repeated key), its savepoint is rolled
 * back and the batch is taken one saga at a time, each in its own savepoint, so that saga is
 * `failed` (or `skipped`) and the others still succeed.
 *
 * `lockedBy`: the jobs the batch adds are locked by it, and answered for the caller to run
 * (see runFollowUps); null: they are queued for any worker.
 */
export async function runBulkBatch(
  operationId: string,
  size = BULK_BATCH_SIZE,
  lockedBy: string | null = null,
): Promise<BatchResult> {
  return getDb().transaction(async (tx): Promise<BatchResult> => {
    const op = await lockRunningOperation(tx, operationId);
    if (!op) return { result: 'stopped' };
    const sagaIds = await claimPendingItems(tx, operationId, size);
    if (sagaIds.length === 0) return { result: 'empty' };
    const by = { actor: op.actor, role: op.role as AuditRole, requestId: op.requestId };
    let outcomes: Outcome[];
    let followUps: LockedJob[] = [];
    try {
      ({ outcomes, followUps } = await tx.transaction((sp) =>
        applyOperatorActions(
          sp,
          op.action,
          sagaIds,
          op.reason,
          by,
          operationId,
          { priority: FOLLOW_UP_PRIORITY, lockedBy },
          op.action === 'cancel'
            ? { decide: decideCompensations, metadata: { causationId: `bulk:${operationId}` } }
            : undefined,
        ),
      ));
    } catch (error) {
      logger.warn(
        { err: error, operationId, sagas: sagaIds.length },
        'bulk operation: the batch failed as a whole; taking its sagas one at a time',
      );
      outcomes = await oneByOne(tx, op, sagaIds, by, operationId);
    }
    await recordItemOutcomes(tx, operationId, outcomes);
    return { result: 'processed', followUps };
  });
}

type Outcome = BatchOutcome | { sagaId: string; outcome: 'failed'; message: string };

/** The batch's sagas one at a time, each in its own savepoint (see runBulkBatch). */
async function oneByOne(
  tx: Tx,
  op: { action: OperatorActionName; reason: string },
  sagaIds: readonly string[],
  by: AuditActor,
  operationId: string,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const sagaId of sagaIds) {
    try {
      await tx.transaction((sp) =>
        applyOperatorAction(sp, op.action, sagaId, op.reason, by, operationId),
      );
      outcomes.push({ sagaId, outcome: 'succeeded', message: null });
    } catch (error) {
      if (error instanceof AppError && (error.kind === 'conflict' || error.kind === 'not_found')) {
        outcomes.push({ sagaId, outcome: 'skipped', message: error.message });
      } else if (error instanceof DuplicateAppendError) {
        outcomes.push({ sagaId, outcome: 'skipped', message: 'already done by this operation' });
      } else {
        logger.error({ err: error, operationId, sagaId }, 'bulk operation: saga failed');
        const message = error instanceof Error ? error.message : String(error);
        outcomes.push({ sagaId, outcome: 'failed', message: message.slice(0, 500) });
      }
    }
  }
  return outcomes;
}
