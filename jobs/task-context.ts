import type { Tx } from '@/db/client';
import type { OrderRow } from '@/db/saga-store';
import type { CompensationEvent, StepFailureEvent, StepSuccessEvent } from '@/lib/saga/decide';
import type { Saga } from '@/lib/saga/saga';

export type { OrderRow };

export interface TaskContext {
  saga: Saga;
  /** The saga's order, read in the same statement as the saga lock (see loadTask). */
  order: OrderRow;
  /** 1 on the first try of this task since the saga last progressed or was retried. */
  attempt: number;
  /** `<sagaId>:<task>`: what outside systems deduplicate on. */
  idempotencyKey: string;
}

/**
 * A task's domain work: what it reads besides the saga and its order, and what it makes of it.
 * The read is a statement by saga id, sent in the load's round trip right behind the saga lock
 * (jobs/run-saga-task.ts), so a row lock it takes is held from there to the commit; `decide`
 * does no I/O (it may throw TransientError).
 */
export interface TaskWork<Outcome, Read, Ctx = TaskContext> {
  read?: (tx: Tx, sagaId: string) => PromiseLike<Read>;
  /**
   * `read` for many sagas in one statement (a bulk cancel's batch, jobs/compensate-batch.ts):
   * the rows of every saga, each with its `sagaId`; a saga's read is its rows, in order.
   */
  readMany?: (tx: Tx, sagaIds: readonly string[]) => PromiseLike<ManyRows<Read>>;
  /**
   * For a task whose read locks rows that other sagas' reads lock too (stock): one statement
   * that takes, in key order, every lock the reads of these sagas will take. A group commit
   * (jobs/run-saga-task.ts, runTaskBatch) sends it before their reads, so the batch's locks are
   * taken in the order a single task takes them, never crosswise.
   */
  lockMany?: (tx: Tx, sagaIds: readonly string[]) => PromiseLike<unknown>;
  decide: (ctx: Ctx, read: Read) => Outcome;
}

type ManyRows<Read> = Read extends readonly (infer R)[] ? (R & { sagaId: string })[] : never;

/** What a compensation decides on: the saga (a compensation reads no order). */
export type CompensationContext = Omit<TaskContext, 'order'>;

export type StepOutcome = StepSuccessEvent | StepFailureEvent;
export type StepHandler = TaskWork<StepOutcome, unknown>;
export type CompensationHandler = TaskWork<CompensationEvent, unknown, CompensationContext>;

/** A task's work, typed by its read. */
export const taskWork = <Outcome, Read = undefined, Ctx = TaskContext>(
  work: TaskWork<Outcome, Read, Ctx>,
): TaskWork<Outcome, unknown, Ctx> => work as unknown as TaskWork<Outcome, unknown, Ctx>;

/** A failure worth trying again (a carrier timeout, an injected transient fault). */
export class TransientError extends Error {
  override name = 'TransientError';
}
