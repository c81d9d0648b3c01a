import type { Decision } from '@/lib/saga/decide';
import type { EventMetadata } from '@/lib/saga/events';
import type { Tx } from '../client';
import { appendEventsOfSagas, pendingEvents, type AppendTarget } from './events';
import { dequeueTasks, enqueueAfterHeld, enqueueTasks } from './graphile-jobs';
import { jobKey, type Task } from '@/lib/saga/model';
import { projectDomainEvents } from './projections';
import { foldStored, updateSagas, type StoredSaga } from './sagas';
import { pipeline, runPrepared, yieldToEventLoop } from './sql';

type Metadata = Omit<EventMetadata, 'correlationId'>;

/** Held from a batch's first statement to its commit: batches that finish sagas take turns. */
const TAKE_TURNS = `select pg_advisory_xact_lock(hashtext('rxsaga:batch-finishes-sagas'))`;

/** One saga of a batch: its decision, and optionally a second one decided on top of it. */
export interface DecidedSaga {
  stored: StoredSaga;
  decision: Decision;
  /**
   * Decided on the saga as `decision` leaves it (a cancelled saga's compensations, run in the
   * same transaction: jobs/compensate-batch.ts): its events are appended after the decision's,
   * under `then` metadata; its next job replaces the decision's.
   */
  then?: Decision | null;
}

/** The saga as `decision` leaves it, but for its positions (folded before the append). */
export function decidedSaga(stored: StoredSaga, decision: Decision, metadata: Metadata) {
  let s = stored;
  for (const event of pendingEvents(targetOf(stored), decision.events, metadata, new Date(0)))
    s = foldStored(s, event);
  return s;
}

const targetOf = ({ saga, heads }: StoredSaga): AppendTarget => ({
  sagaId: saga.sagaId,
  orderId: saga.orderId,
  heads,
  startedAt: saga.startedAt,
});

/**
 * applyDecision for a batch of sagas (a bulk operation's, jobs/run-bulk-operation.ts), inside
 * the caller's transaction, which holds every one of their row locks (lockSagas): the same
 * events, projections, saga rows and jobs as one applyDecision per saga (per decision: a saga's
 * `then` as a second applyDecision), in a fixed number of statements whatever the batch size.
 * Two round trips: the appends (one statement for the decisions, one for their `then`s), then
 * the rest together. `jobs`: the graphile-worker priority of the jobs it adds, and the worker id
 * they are added locked by, if any (see enqueueTasks): a bulk operation runs its follow-up work
 * itself. Answers each saga as its decision left it (`acted`), as written (`sagas`), and the
 * jobs added locked (id, saga, task). A repeated idempotency key throws DuplicateAppendError, as
 * applyDecision does: the caller rolls the batch back.
 */
export async function applyDecisions(
  tx: Tx,
  decided: readonly DecidedSaga[],
  metadata: Metadata,
  jobs: { priority: number; lockedBy: string | null },
  thenMetadata: Metadata = metadata,
): Promise<{ acted: StoredSaga[]; sagas: StoredSaga[]; locked: LockedJob[] }> {
  if (decided.length === 0) return { acted: [], sagas: [], locked: [] };
  const thens = decided.flatMap(({ stored, decision, then }) =>
    then && then.events.length > 0
      ? [{ target: targetOf(decidedSaga(stored, decision, metadata)), events: then.events }]
      : [],
  );
  // Batches that finish sagas update the hourly stats rows (a trigger per saga row and per
  // signal event, in no set order across batches): two such batches at once (two operations)
  // could take them in different orders and deadlock, so they take turns, from their first
  // statement to their commits. A single task finishes one saga and waits for nothing after it.
  const finishing = decided.some((d) => d.then);
  // Sent in this order: the turn's lock (pipeline sends at once), then each append (its call
  // sends its statement).
  const [, appended, appendedThen] = await Promise.all([
    pipeline(...(finishing ? [runPrepared(tx, TAKE_TURNS, [])] : [])),
    appendEventsOfSagas(
      tx,
      decided.map(({ stored, decision }) => ({
        target: targetOf(stored),
        events: decision.events,
      })),
      metadata,
    ),
    appendEventsOfSagas(tx, thens, thenMetadata),
  ]);
  await yieldToEventLoop();
  const acted = decided.map(({ stored }) => {
    let s = stored;
    for (const event of appended.get(stored.saga.sagaId) ?? []) s = foldStored(s, event);
    return s;
  });
  const next = acted.map((stored) => {
    let s = stored;
    for (const event of appendedThen.get(stored.saga.sagaId) ?? []) s = foldStored(s, event);
    return s;
  });
  const added = decided.flatMap(({ stored, decision, then }) => {
    const enqueue = (then ?? decision).enqueue;
    return enqueue ? [{ sagaId: stored.saga.sagaId, ...enqueue }] : [];
  });
  const dequeued = decided.flatMap(({ stored, decision, then }) =>
    [...decision.dequeue, ...(then?.dequeue ?? [])].map((task) => ({
      sagaId: stored.saga.sagaId,
      task,
    })),
  );
  const events = [...appended.values(), ...appendedThen.values()].flat();
  const projections = projectDomainEvents(tx, events);
  // The order of applyDecision's: projections, dequeues, then the saga rows and the new jobs;
  // the stock rows last (see projectDomainEvents).
  const results = await pipeline(
    ...projections.rows,
    ...(dequeued.length > 0 ? [dequeueTasks(tx, dequeued)] : []),
    updateSagas(tx, next),
    enqueueTasks(tx, added, jobs.priority, jobs.lockedBy),
    ...projections.stock,
  );
  const at = results.length - projections.stock.length;
  const written = results[at - 2] as unknown[];
  const enqueued = results[at - 1] as { keys: string[]; ids: string[] }[];
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
  return { acted, sagas: next, locked };
}

/** A job applyDecisions added locked: the caller's to run. */
export interface LockedJob {
  id: string;
  sagaId: string;
  task: Task;
}
