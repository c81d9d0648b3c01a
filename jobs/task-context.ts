import type { Tx } from '@/db/client';
import type { OrderRow } from '@/db/saga-store';
import type { CompensationEvent, StepFailureEvent, StepSuccessEvent } from '@/lib/saga/decide';
import type { Saga } from '@/lib/saga/saga';

export type { OrderRow };

export interface TaskContext {
  tx: Tx;
  saga: Saga;
  /** The saga's order, read in the same statement as the saga lock (see loadTask). */
  order: OrderRow;
  /** 1 on the first try of this task since the saga last progressed or was retried. */
  attempt: number;
  /** `<sagaId>:<task>`: what outside systems deduplicate on. */
  idempotencyKey: string;
}

export type StepOutcome = StepSuccessEvent | StepFailureEvent;
export type StepHandler = (ctx: TaskContext) => Promise<StepOutcome>;
export type CompensationHandler = (ctx: TaskContext) => Promise<CompensationEvent>;

/** A failure worth trying again (a carrier timeout, an injected transient fault). */
export class TransientError extends Error {
  override name = 'TransientError';
}
