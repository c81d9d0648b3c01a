import type { Decision } from '@/lib/saga/decide';
import type { EventMetadata } from '@/lib/saga/events';
import { evolve, type Saga } from '@/lib/saga/saga';
import type { Tx } from './client';
import { completeJobInTransaction, dequeueTask, enqueueTask } from './enqueue';
import { appendEvents } from './event-store';
import { projectDomainEvent, saveSaga } from './projections';

export interface ApplyOptions {
  /** The graphile-worker job running this decision: deleted in this transaction (see enqueue.ts). */
  completeJobId?: string;
  /**
   * Wake idle workers for the next job (default). False when the calling worker runs that job
   * itself right after the commit (see EnqueueOptions).
   */
  wake?: boolean;
}

/**
 * The one way a decision reaches the database, inside the caller's transaction (which holds
 * the saga row lock): append the events, fold them into the saga, update every projection,
 * and add the next job. All of it commits together or none of it does.
 */
export async function applyDecision(
  tx: Tx,
  target: Saga | { sagaId: string; orderId: string },
  decision: Decision,
  metadata: Omit<EventMetadata, 'correlationId'>,
  options: ApplyOptions = {},
): Promise<Saga> {
  const current = 'state' in target ? target : null;
  const stored = await appendEvents(
    tx,
    {
      sagaId: target.sagaId,
      orderId: target.orderId,
      sagaVersion: current?.version ?? 0,
      orderVersion: current?.orderVersion ?? 0,
    },
    decision.events,
    metadata,
  );
  let next = current;
  for (const event of stored) next = evolve(next, event);
  if (!next) throw new Error(`decision for saga ${target.sagaId} appended no events`);
  // None of these writes needs another's result: they are issued together and pipelined on the
  // transaction's connection (one round trip instead of one each). The server still runs them
  // one after the other, and the first error aborts the transaction as before.
  const writes: Promise<unknown>[] = stored.map((event) => projectDomainEvent(tx, event));
  writes.push(saveSaga(tx, next, current ? 'stored' : 'new'));
  if (options.completeJobId) writes.push(completeJobInTransaction(tx, options.completeJobId));
  for (const task of decision.dequeue) writes.push(dequeueTask(tx, target.sagaId, task));
  if (decision.enqueue) {
    const { task, runAt } = decision.enqueue;
    writes.push(enqueueTask(tx, target.sagaId, task, runAt, { wake: options.wake ?? true }));
  }
  await Promise.all(writes);
  return next;
}
