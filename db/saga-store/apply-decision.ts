import type { Decision } from '@/lib/saga/decide';
import type { EventMetadata } from '@/lib/saga/events';
import type { Tx } from '../client';
import { databaseNow } from '../clock';
import {
  appendCtes,
  appendParams,
  asDuplicateAppend,
  eventRows,
  pendingEvents,
  versionEvents,
} from './events';
import {
  dequeueTask,
  enqueueAfterHeld,
  enqueueCtes,
  jobParams,
  type NextJob,
} from './graphile-jobs';
import { projectDomainEvent } from './projections';
import {
  foldStored,
  NO_EVENTS_YET,
  sagaRows,
  sagaToRow,
  sagaWriteTexts,
  type StoredSaga,
} from './sagas';
import { pipeline, runPrepared } from './sql';

export interface ApplyOptions {
  /**
   * Wake idle workers for the next job (default). False when the calling worker runs that job
   * itself right after the commit (see NextJob.wake).
   */
  wake?: boolean;
  /**
   * The transaction's `now()` (its start: what the appended events are stamped with), when the
   * caller has read it already (the task's load does); otherwise it is read first.
   */
  now?: Date;
}

const POSITION = eventRows.field('position').name;
const APPEND_PARAMS = 9;

/**
 * The append, the saga row (its last_position taken from the appended events) and the enqueue
 * of the next job: one statement.
 */
const applyText = (kind: 'stored' | 'new') => {
  const saga = sagaWriteTexts(
    APPEND_PARAMS + 1,
    (param) => `coalesce((select max(${POSITION}) from appended), ${param})`,
  )[kind];
  return `with ${appendCtes(1)}, saved as (${saga} returning 1),
  ${enqueueCtes(APPEND_PARAMS + sagaRows.fields.length + 1)}
  select (select count(*)::int from saved) as saved,
    (select max(${POSITION})::float8 from appended) as last_position,
    (select count(*)::int from notified) as notified,
    (select id from enqueued) as job_id, (select count(*)::int from woke) as woke`;
};
const APPLY = { stored: applyText('stored'), new: applyText('new') };

interface Applied {
  saved: number;
  last_position: number | null;
  job_id: string | null;
}

/**
 * The one way a decision reaches the database, inside the caller's transaction (which holds
 * the saga row lock): append the events, fold them into the saga, update every projection,
 * write the saga row and add the next job. All of it commits together or none of it does.
 * One round trip: the events are folded before they are sent (stamped with the transaction's
 * `now()`, as the append stamps them), so the projections and the saga row travel with the
 * append; only the positions are the database's, and the saga row takes its last one in SQL.
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
  const appendTarget = {
    sagaId,
    orderId,
    heads: current?.heads ?? NO_EVENTS_YET,
    startedAt: current?.saga.startedAt ?? null,
  };
  const now = options.now ?? (await databaseNow(tx));
  const versioned = versionEvents(appendTarget, decision.events);
  const events = pendingEvents(appendTarget, versioned, metadata, now);
  let next = current;
  for (const event of events) next = foldStored(next, event);
  if (!next) throw new Error(`decision for saga ${sagaId} appends no events`);
  const job: NextJob | null = decision.enqueue
    ? { sagaId, ...decision.enqueue, wake: options.wake ?? true }
    : null;
  // The append first: a repeat fails there, as DuplicateAppendError, before any projection.
  const [[written]] = await pipeline(
    runPrepared<Applied>(tx, APPLY[current ? 'stored' : 'new'], [
      ...appendParams(appendTarget, versioned, metadata),
      ...sagaRows.encode(sagaToRow(next)),
      ...jobParams(job),
    ]),
    ...events.flatMap((event) => projectDomainEvent(tx, event) ?? []),
    ...decision.dequeue.map((task) => dequeueTask(tx, sagaId, task)),
  ).catch((error: unknown) => {
    throw asDuplicateAppend(error);
  });
  if (written?.saved !== 1) throw new Error(`saga ${sagaId} row was not written`);
  next = { ...next, heads: { ...next.heads, lastPosition: Number(written.last_position) } };
  // Rare: a worker holds a job with this key (an operator retried while it ran).
  if (job && !written.job_id) await enqueueAfterHeld(tx, job);
  return next;
}
