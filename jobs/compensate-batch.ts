import type { Tx } from '@/db/client';
import { decidedSaga, pipeline, rawSql, type StoredSaga, yieldToEventLoop } from '@/db/saga-store';
import { compensated, type CompensationEvent, type Decision } from '@/lib/saga/decide';
import {
  COMPENSATION_TASKS,
  isCompensationTask,
  jobKey,
  type CompensationTask,
} from '@/lib/saga/model';
import { expectedTask } from '@/lib/saga/saga';
import { logger } from '@/server/logger';
import { COMPENSATION_WORK } from './run-saga-task';

/**
 * A bulk cancel's compensations, set-based, in the batch's own transaction (see
 * applyOperatorActions' `then`): for every cancelled saga of the batch, each compensation it
 * has to run, newest step first, as its task would (the task's own `decide` on the task's read,
 * then the pure `compensated`), with the reads made for the whole batch at once (one statement
 * per compensation, `readMany`) and the effects applied with the batch's (applyDecisions: one
 * statement per kind of projection). The same events, in the same order, and the same rows as
 * the three task transactions per saga it replaces, each once: they commit with the cancel, or
 * nothing does; a repeat of any fails the append (DuplicateAppendError) and the batch is taken
 * one saga at a time through the single-task path.
 *
 * A compensation that is paused, or has a fault setting (a drill: failure, transient or
 * latency), is left to its task: the chain stops before it and the saga's next job is that
 * task's, run by the operation as any follow-up (runSagaTask: held while paused, the fault
 * rolled per saga). Answers one decision per saga (its compensations folded into one), or
 * null when it has none to run here.
 */
export async function decideCompensations(
  tx: Tx,
  sagas: readonly StoredSaga[],
): Promise<(Decision | null)[]> {
  const ids = sagas.map((s) => s.saga.sagaId);
  const [blockedRows, released, prescriptions] = await pipeline(
    rawSql(tx)<{ task: string }[]>`
      select task from task_pauses where task = any(${COMPENSATION_TASKS as unknown as string[]})
      union select task from fault_injections where task = any(${COMPENSATION_TASKS as unknown as string[]})
        and (failure_rate > 0 or transient_rate > 0 or latency_ms > 0)`,
    COMPENSATION_WORK['release-inventory'].readMany!(tx, ids),
    COMPENSATION_WORK['cancel-prescription'].readMany!(tx, ids),
  );
  const blocked = new Set(blockedRows.map((r) => r.task));
  const reads: Record<CompensationTask, Map<string, unknown[]> | null> = {
    'release-inventory': bySaga(released),
    'cancel-prescription': bySaga(prescriptions),
    'cancel-order': null,
  };
  const decided: (Decision | null)[] = [];
  for (const [i, stored] of sagas.entries()) {
    // A batch's decisions are a few ms of this worker's event loop, which new sagas' tasks
    // share: they go in between.
    if (i > 0 && i % YIELD_EVERY === 0) await yieldToEventLoop();
    decided.push(decideOne(stored));
  }
  return decided;

  function decideOne(stored: StoredSaga): Decision | null {
    let current = stored;
    const decisions: Decision[] = [];
    for (;;) {
      const { saga } = current;
      const task = expectedTask(saga);
      if (!task || !isCompensationTask(task) || blocked.has(task) || saga.needsIntervention) break;
      const read = reads[task] === null ? undefined : (reads[task].get(saga.sagaId) ?? []);
      const ctx = { saga, attempt: saga.attempts + 1, idempotencyKey: jobKey(saga.sagaId, task) };
      const event = COMPENSATION_WORK[task].decide(ctx, read) as CompensationEvent;
      const decision = compensated(saga, task, event);
      decisions.push(decision);
      current = decidedSaga(current, decision, {});
    }
    const { saga } = current;
    if (decisions.length === 0) return null;
    logger.info(
      {
        sagaId: saga.sagaId,
        tasks: decisions.map((d) => d.events[0]?.type),
        from: stored.saga.state,
        to: saga.state,
        event: 'saga.transition',
      },
      `compensated with the bulk cancel: ${stored.saga.state} → ${saga.state}`,
    );
    return {
      events: decisions.flatMap((d) => d.events),
      enqueue: decisions.at(-1)!.enqueue,
      dequeue: [],
    };
  }
}

const YIELD_EVERY = 10;

function bySaga(rows: readonly { sagaId: string }[]): Map<string, unknown[]> {
  const map = new Map<string, unknown[]>();
  for (const { sagaId, ...row } of rows) {
    const list = map.get(sagaId);
    if (list) list.push(row);
    else map.set(sagaId, [row]);
  }
  return map;
}
