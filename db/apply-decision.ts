import type { Decision } from '@/lib/saga/decide';
import type { EventMetadata } from '@/lib/saga/events';
import { evolve, type Saga } from '@/lib/saga/saga';
import type { Tx } from './client';
import { dequeueTask, enqueueTask } from './enqueue';
import { appendEvents } from './event-store';
import { projectDomainEvent, saveSaga } from './projections';

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
  for (const event of stored) {
    next = evolve(next, event);
    await projectDomainEvent(tx, event);
  }
  if (!next) throw new Error(`decision for saga ${target.sagaId} appended no events`);
  await saveSaga(tx, next);
  for (const task of decision.dequeue) await dequeueTask(tx, target.sagaId, task);
  if (decision.enqueue) await enqueueTask(tx, target.sagaId, decision.enqueue.task, decision.enqueue.runAt);
  return next;
}
