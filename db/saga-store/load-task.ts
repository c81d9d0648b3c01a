import { noFaults, type FaultSetting } from '@/lib/domain/fault-injection';
import type { Task } from '@/lib/saga/model';
import type { Tx } from '../client';
import { faultInjections } from '../schema';
import { tableCodec } from './codec';
import { takeJobCte, takeJobParams } from './graphile-jobs';
import { orderRows, rowToStored, sagaRows, type OrderRow, type StoredSaga } from './sagas';
import { readTimestamp, runPrepared, type RawTimestamp } from './sql';

/** How the task's job reached this worker: delivered (locked) by graphile-worker, or taken inline. */
export type JobDelivery = { kind: 'graphile'; id: string } | { kind: 'inline' };

/** What a task reads before it decides, all in one statement. */
export interface TaskInput {
  /** Null: no such saga. */
  stored: StoredSaga | null;
  /** The saga's order (null only when the projection is out of step with the events). */
  order: OrderRow | null;
  fault: FaultSetting;
  /**
   * The transaction's `now()`: its start, what its events are stamped with (db/clock.ts); null
   * with no saga.
   */
  now: Date | null;
  /**
   * The job this run is, now deleted in this transaction (graphile-jobs.ts, takeJobCte); null
   * when an inline job was not there to take (a worker holds it, or it was removed): not ours.
   */
  jobId: string | null;
}

const faultRows = tableCodec(faultInjections);

/**
 * Locks the saga row, takes the job, reads the order, the task's fault setting and the
 * transaction's clock: one statement. The saga's row lock is what every task and command of a saga
 * queues on; the order and fault rows are read in the same statement (neither changes under a
 * running saga in a way that matters: the order's status only at its last compensation).
 */
const LOAD_TASK = `with ${takeJobCte(3)}
  select ${sagaRows.selectList('s', 's.')}, ${orderRows.selectList('o', 'o.')},
    ${faultRows.selectList('f', 'f.')},
    (select id from taken) as taken_job_id, now()::text as tx_now
  from ${sagaRows.table} s
  left join ${orderRows.table} o on o.${orderRows.field('sagaId').name} = s.${sagaRows.field('sagaId').name}
  left join ${faultRows.table} f on f.${faultRows.field('task').name} = $2::text
  where s.${sagaRows.field('sagaId').name} = $1::uuid
  for update of s`;

/** loadTask's statement, not yet sent (a caller may pipeline more behind it); see readTaskInput. */
export function loadTaskStatement(
  tx: Tx,
  sagaId: string,
  task: Task,
  delivery: JobDelivery,
): PromiseLike<Record<string, unknown>[]> {
  return runPrepared(tx, LOAD_TASK, [sagaId, task, ...takeJobParams(sagaId, task, delivery)]);
}

export async function loadTask(
  tx: Tx,
  sagaId: string,
  task: Task,
  delivery: JobDelivery,
): Promise<TaskInput> {
  return readTaskInput(await loadTaskStatement(tx, sagaId, task, delivery), task, delivery);
}

export function readTaskInput(
  rows: readonly Record<string, unknown>[],
  task: Task,
  delivery: JobDelivery,
): TaskInput {
  const [row] = rows;
  const taken = (row?.taken_job_id as string | null | undefined) ?? null;
  // A graphile job is ours whether or not its row was still there to delete.
  const jobId = delivery.kind === 'graphile' ? delivery.id : taken;
  if (!row) return { stored: null, order: null, fault: noFaults(task), now: null, jobId };
  const fault = faultRows.decode(row, 'f.');
  const order = orderRows.decode(row, 'o.');
  return {
    stored: rowToStored(sagaRows.decode(row, 's.')),
    order: order.orderId === null ? null : order,
    // No row: no faults for this task (the left join gave nulls).
    fault:
      fault.task === null
        ? noFaults(task)
        : {
            task,
            failureRate: fault.failureRate,
            transientRate: fault.transientRate,
            latencyMs: fault.latencyMs,
          },
    now: readTimestamp(row.tx_now as RawTimestamp),
    jobId,
  };
}
