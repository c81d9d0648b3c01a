import { eq } from 'drizzle-orm';
import type { Tx } from '@/db/client';
import { orders } from '@/db/schema';
import type { CompensationEvent, StepFailureEvent, StepSuccessEvent } from '@/lib/saga/decide';
import type { Saga } from '@/lib/saga/saga';

export type OrderRow = typeof orders.$inferSelect;

export interface TaskContext {
  tx: Tx;
  saga: Saga;
  /** The saga's order, read in the same round trip as the saga lock (see runSagaTask). */
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

/** The order of a saga (orders.saga_id is unique), or null. */
export async function loadOrderOfSaga(tx: Tx, sagaId: string): Promise<OrderRow | null> {
  const [order] = await tx.select().from(orders).where(eq(orders.sagaId, sagaId));
  return order ?? null;
}
