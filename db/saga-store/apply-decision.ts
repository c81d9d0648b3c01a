import type { Decision } from '@/lib/saga/decide';
import type { EventMetadata } from '@/lib/saga/events';
import type { Tx } from '../client';
import { appendEvents } from './events';
import {
  dequeueTask,
  enqueueAfterHeld,
  enqueueCtes,
  jobParams,
  type NextJob,
} from './graphile-jobs';
import { projectDomainEvent } from './projections';
import { foldStored, NO_EVENTS_YET, sagaRows, sagaWrite, type StoredSaga } from './sagas';
import { pipeline, runPrepared } from './sql';

export interface ApplyOptions {
  /**
   * Wake idle workers for the next job (default). False when the calling worker runs that job
   * itself right after the commit (see NextJob.wake).
   */
  wake?: boolean;
}

/** The saga write carrying the enqueue of the next job: one statement (see graphile-jobs.ts). */
const sagaAndJob = (sagaText: string) => `with saved as (${sagaText} returning 1), ${enqueueCtes(
  sagaRows.fields.length + 1,
)}
  select (select count(*)::int from saved) as saved, (select id from enqueued) as job_id,
    (select count(*)::int from woke) as woke`;
const SAGA_AND_JOB = new Map<string, string>();
const statementFor = (sagaText: string) => {
  let text = SAGA_AND_JOB.get(sagaText);
  if (!text) SAGA_AND_JOB.set(sagaText, (text = sagaAndJob(sagaText)));
  return text;
};

/**
 * The one way a decision reaches the database, inside the caller's transaction (which holds
 * the saga row lock): append the events, fold them into the saga, update every projection,
 * write the saga row and add the next job. All of it commits together or none of it does.
 * Two round trips: the append (its positions and times are the saga's), then the rest.
 */
export async function applyDecision(
  tx: Tx,
  target: StoredSaga | { sagaId: string; orderId: string },
  decision: Decision,
  metadata: Omit<EventMetadata, 'correlationId'>,
  options: ApplyOptions = {},
): Promise<StoredSaga> {
  const current = 'saga' in target ? target : null;
  const { sagaId, orderId } = current?.saga ?? (target as { sagaId: string; orderId: string });
  const stored = await appendEvents(
    tx,
    {
      sagaId,
      orderId,
      heads: current?.heads ?? NO_EVENTS_YET,
      startedAt: current?.saga.startedAt ?? null,
    },
    decision.events,
    metadata,
  );
  let next = current;
  for (const event of stored) next = foldStored(next, event);
  if (!next) throw new Error(`decision for saga ${sagaId} appended no events`);
  const job: NextJob | null = decision.enqueue
    ? { sagaId, ...decision.enqueue, wake: options.wake ?? true }
    : null;
  const saga = sagaWrite(next, current ? 'stored' : 'new');
  const results = await pipeline(
    ...stored.flatMap((event) => projectDomainEvent(tx, event) ?? []),
    ...decision.dequeue.map((task) => dequeueTask(tx, sagaId, task)),
    runPrepared<{ saved: number; job_id: string | null }>(tx, statementFor(saga.text), [
      ...saga.params,
      ...jobParams(job),
    ]),
  );
  const [written] = results[results.length - 1] as { saved: number; job_id: string | null }[];
  if (written?.saved !== 1) throw new Error(`saga ${sagaId} row was not written`);
  // Rare: a worker holds a job with this key (an operator retried while it ran).
  if (job && !written.job_id) await enqueueAfterHeld(tx, job);
  return next;
}
