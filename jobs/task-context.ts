import type { Tx } from '@/db/client';
import { rawSql, readTimestamp, type RawTimestamp } from '@/db/raw';
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

/** The order of a saga (orders.saga_id is unique), or null. Read by every task (db/raw.ts). */
export async function loadOrderOfSaga(tx: Tx, sagaId: string): Promise<OrderRow | null> {
  const [r] = await rawSql(tx)<OrderRecord[]>`
    select order_id, saga_id, patient_id, prescriber_id, medications, shipping_address, status,
      idempotency_key, request_hash, created_at, cancelled_at
    from orders where saga_id = ${sagaId}`;
  return r
    ? {
        orderId: r.order_id,
        sagaId: r.saga_id,
        patientId: r.patient_id,
        prescriberId: r.prescriber_id,
        medications: r.medications,
        shippingAddress: r.shipping_address,
        status: r.status,
        idempotencyKey: r.idempotency_key,
        requestHash: r.request_hash,
        createdAt: readTimestamp(r.created_at),
        cancelledAt: readTimestamp(r.cancelled_at),
      }
    : null;
}

interface OrderRecord {
  order_id: string;
  saga_id: string;
  patient_id: string;
  prescriber_id: string | null;
  medications: OrderRow['medications'];
  shipping_address: OrderRow['shippingAddress'];
  status: OrderRow['status'];
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: RawTimestamp;
  cancelled_at: RawTimestamp | null;
}
