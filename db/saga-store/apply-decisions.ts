import type { Decision } from '@/lib/saga/decide';
import type { EventMetadata } from '@/lib/saga/events';
import type { Tx } from '../client';
import { appendEventsOfSagas } from './events';
import { dequeueTasks, enqueueAfterHeld, enqueueTasks } from './graphile-jobs';
import { jobKey, type Task } from '@/lib/saga/model';
import { projectDomainEvent } from './projections';
import { foldStored, updateSagas, type StoredSaga } from './sagas';
import { pipeline } from './sql';

/**
 * applyDecision for a batch of sagas (a bulk operation's, jobs/run-bulk-operation.ts), inside
 * the caller's transaction, which holds every one of their row locks (lockSagas): the same
 * events, projections, saga rows and jobs as one applyDecision per saga, in a fixed number of
 * statements whatever the batch size. Two round trips: the append, then the rest together.
 * `jobs`: the graphile-worker priority of the jobs it adds, and the worker id they are added
 * locked by, if any (see enqueueTasks): a bulk operation runs its follow-up work itself. Answers
 * the sagas as written and the jobs added locked (id, saga, task). A repeated idempotency key
 * throws DuplicateAppendError, as applyDecision does: the caller rolls the batch back.
 */
export async function applyDecisions(
  tx: Tx,
  decided: readonly { stored: StoredSaga; decision: Decision }[],
  metadata: Omit<EventMetadata, 'correlationId'>,
  jobs: { priority: number; lockedBy: string | null },
): Promise<{ sagas: StoredSaga[]; locked: LockedJob[] }> {
  if (decided.length === 0) return { sagas: [], locked: [] };
  const appended = await appendEventsOfSagas(
    tx,
    decided.map(({ stored, decision }) => ({
      target: {
        sagaId: stored.saga.sagaId,
        orderId: stored.saga.orderId,
        heads: stored.heads,
        startedAt: stored.saga.startedAt,
      },
      events: decision.events,
    })),
    metadata,
  );
  const next = decided.map(({ stored }) => {
    let s = stored;
    for (const event of appended.get(stored.saga.sagaId) ?? []) s = foldStored(s, event);
    return s;
  });
  const added = decided.flatMap(({ stored, decision }) =>
    decision.enqueue ? [{ sagaId: stored.saga.sagaId, ...decision.enqueue }] : [],
  );
  const dequeued = decided.flatMap(({ stored, decision }) =>
    decision.dequeue.map((task) => ({ sagaId: stored.saga.sagaId, task })),
  );
  const events = [...appended.values()].flat();
  // The order of applyDecision's: projections, dequeues, then the saga rows and the new jobs.
  const results = await pipeline(
    ...events.flatMap((event) => projectDomainEvent(tx, event) ?? []),
    ...(dequeued.length > 0 ? [dequeueTasks(tx, dequeued)] : []),
    updateSagas(tx, next),
    enqueueTasks(tx, added, jobs.priority, jobs.lockedBy),
  );
  const written = results[results.length - 2] as unknown[];
  const enqueued = results[results.length - 1] as { keys: string[]; ids: string[] }[];
  if (written.length !== decided.length) {
    throw new Error(`${decided.length - written.length} saga rows of a batch were not written`);
  }
  // Rare: a worker holds a job with one of these keys (see applyDecision); added at priority 0,
  // unlocked, for any worker.
  const ids = new Map((enqueued[0]?.keys ?? []).map((key, i) => [key, enqueued[0]!.ids[i]!]));
  const locked: LockedJob[] = [];
  for (const job of added) {
    const id = ids.get(jobKey(job.sagaId, job.task));
    if (id === undefined) await enqueueAfterHeld(tx, { ...job, wake: true });
    else if (jobs.lockedBy !== null) locked.push({ id, sagaId: job.sagaId, task: job.task });
  }
  return { sagas: next, locked };
}

/** A job applyDecisions added locked: the caller's to run. */
export interface LockedJob {
  id: string;
  sagaId: string;
  task: Task;
}
