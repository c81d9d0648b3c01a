import { eq } from 'drizzle-orm';
import type { Tx } from '@/db/client';
import { orders } from '@/db/schema';
import type { CompensationEvent, StepFailureEvent, StepSuccessEvent } from '@/lib/saga/decide';
import type { Saga } from '@/lib/saga/saga';

export interface TaskContext {
  tx: Tx;
  saga: Saga;
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

export async function loadOrderOrThrow(tx: Tx, orderId: string) {
  const [order] = await tx.select().from(orders).where(eq(orders.orderId, orderId));
  if (!order) throw new Error(`order ${orderId} has no row: projection out of step with events`);
  return order;
}
