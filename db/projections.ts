import type { StoredEvent } from '@/lib/saga/events';
import { expectedTask, type Saga } from '@/lib/saga/saga';
import type { CompensationTask, Step, StepTask } from '@/lib/saga/model';
import type { DbOrTx, Tx } from './client';
import { rawSql, readTimestamp, timestampParam, type RawTimestamp } from './raw';
import type { orderFulfillmentSagas } from './schema';

type SagaRow = typeof orderFulfillmentSagas.$inferSelect;

/**
 * The read models other than the saga row: orders, prescriptions, reservations (and the
 * `reserved` total they add up to) and shipments. Live appends and replay both run every
 * event through here, so they cannot drift apart.
 */
export interface ProjectionOptions {
  /**
   * Live appends move `reserved` with each event (under the row locks the reservation took).
   * Replay sets it once at the end from the active reservations instead: replaying a reservation
   * against today's on-hand (which an operator may have lowered since) could trip the
   * `reserved <= on_hand` check halfway even though the end result is valid.
   */
  adjustStock: boolean;
}

export async function projectDomainEvent(
  tx: Tx,
  event: StoredEvent,
  options: ProjectionOptions = { adjustStock: true },
): Promise<void> {
  // Prepared statements (db/raw.ts): every step projects at least one event.
  const raw = rawSql(tx);
  const sagaId = event.metadata.correlationId;
  const at = timestampParam(event.recordedAt);
  switch (event.type) {
    case 'order.created': {
      const p = event.payload;
      await raw`insert into orders (order_id, saga_id, patient_id, prescriber_id, medications,
          shipping_address, status, idempotency_key, request_hash, created_at)
        values (${p.orderId}, ${p.sagaId}, ${p.patientId}, ${p.prescriberId},
          ${JSON.stringify(p.medications)}::jsonb, ${JSON.stringify(p.shippingAddress)}::jsonb,
          'created', ${p.idempotencyKey}, ${p.requestHash}, ${at})`;
      return;
    }
    case 'order.prescription_created': {
      const p = event.payload;
      await raw`insert into prescriptions (prescription_id, order_id, saga_id, prescriber_id, status, created_at)
        values (${p.prescriptionId}, ${p.orderId}, ${sagaId}, ${p.prescriberId}, 'active', ${at})`;
      return;
    }
    case 'order.prescription_cancelled':
      await raw`update prescriptions set status = 'cancelled', cancelled_at = ${at}
        where prescription_id = ${event.payload.prescriptionId}`;
      return;
    case 'order.inventory_reserved': {
      const { lines } = event.payload;
      await Promise.all([
        raw`insert into inventory_reservations (saga_id, sku, quantity, status, reserved_at)
          select ${sagaId}, sku, quantity, 'active', ${at}
          from unnest(${lines.map((l) => l.sku)}::text[], ${lines.map((l) => l.quantity)}::int[])
            as l(sku, quantity)`,
        ...(options.adjustStock ? adjustReserved(tx, lines, +1) : []),
      ]);
      return;
    }
    case 'order.inventory_released':
      await Promise.all([
        raw`update inventory_reservations set status = 'released', released_at = ${at}
          where saga_id = ${sagaId} and status = 'active'`,
        ...(options.adjustStock ? adjustReserved(tx, event.payload.lines, -1) : []),
      ]);
      return;
    case 'order.shipment_initiated': {
      const p = event.payload;
      await raw`insert into shipments (shipment_id, order_id, saga_id, carrier_reference, created_at)
        values (${p.shipmentId}, ${p.orderId}, ${sagaId}, ${p.carrierReference}, ${at})`;
      return;
    }
    case 'order.cancelled':
      await raw`update orders set status = 'cancelled', cancelled_at = ${at}
        where order_id = ${event.payload.orderId}`;
      return;
    default:
      return; // saga-stream events and failures change only the saga row
  }
}

/**
 * One update per line, issued together: they are pipelined and the server runs them in line
 * order (lines are in SKU order), so stock rows are still locked in SKU order.
 */
function adjustReserved(
  tx: Tx,
  lines: readonly { sku: string; quantity: number }[],
  sign: 1 | -1,
): Promise<unknown>[] {
  const raw = rawSql(tx);
  return lines.map((l) => {
    const delta = sign * l.quantity;
    return raw`update inventory_items set reserved = reserved + ${delta}, updated_at = now()
      where sku = ${l.sku}`;
  });
}

export function sagaToRow(saga: Saga): SagaRow {
  return {
    sagaId: saga.sagaId,
    orderId: saga.orderId,
    patientId: saga.patientId,
    state: saga.state,
    currentTask: expectedTask(saga),
    completedSteps: saga.completedSteps,
    compensationsDone: saga.compensationsDone,
    failedStep: saga.failedStep,
    failureReason: saga.failureReason,
    needsIntervention: saga.needsIntervention,
    interventionReason: saga.interventionReason,
    interventionSince: saga.interventionSince,
    attempts: saga.attempts,
    lastError: saga.lastError,
    startedAt: saga.startedAt,
    updatedAt: saga.updatedAt,
    completedAt: saga.completedAt,
    version: saga.version,
    orderVersion: saga.orderVersion,
    lastPosition: saga.lastPosition,
  };
}

interface SagaRecord {
  saga_id: string;
  order_id: string;
  patient_id: string;
  state: Saga['state'];
  completed_steps: Step[];
  compensations_done: CompensationTask[];
  failed_step: StepTask | null;
  failure_reason: string | null;
  needs_intervention: boolean;
  intervention_reason: string | null;
  intervention_since: RawTimestamp | null;
  attempts: number;
  last_error: string | null;
  started_at: RawTimestamp;
  updated_at: RawTimestamp;
  completed_at: RawTimestamp | null;
  version: number;
  order_version: number;
  /** int8: postgres.js returns it as a string. */
  last_position: string;
}

function recordToSaga(r: SagaRecord): Saga {
  return {
    sagaId: r.saga_id,
    orderId: r.order_id,
    patientId: r.patient_id,
    state: r.state,
    completedSteps: r.completed_steps,
    compensationsDone: r.compensations_done,
    failedStep: r.failed_step,
    failureReason: r.failure_reason,
    needsIntervention: r.needs_intervention,
    interventionReason: r.intervention_reason,
    interventionSince: readTimestamp(r.intervention_since),
    attempts: r.attempts,
    lastError: r.last_error,
    startedAt: readTimestamp(r.started_at),
    updatedAt: readTimestamp(r.updated_at),
    completedAt: readTimestamp(r.completed_at),
    version: r.version,
    orderVersion: r.order_version,
    lastPosition: Number(r.last_position),
  };
}

/**
 * Writes the saga row (on every task: a prepared statement, see db/raw.ts). A saga that was
 * read from its row is updated; a new one (or one rebuilt by replay) is upserted.
 */
export async function saveSaga(
  tx: Tx,
  saga: Saga,
  stored: 'stored' | 'new' = 'new',
): Promise<void> {
  const r = sagaToRow(saga);
  const raw = rawSql(tx);
  if (stored === 'stored') {
    await raw`
      update order_fulfillment_sagas set state = ${r.state}, current_task = ${r.currentTask},
        completed_steps = ${r.completedSteps}, compensations_done = ${r.compensationsDone},
        failed_step = ${r.failedStep}, failure_reason = ${r.failureReason},
        needs_intervention = ${r.needsIntervention}, intervention_reason = ${r.interventionReason},
        intervention_since = ${timestampParam(r.interventionSince)}, attempts = ${r.attempts},
        last_error = ${r.lastError}, updated_at = ${timestampParam(r.updatedAt)},
        completed_at = ${timestampParam(r.completedAt)}, version = ${r.version},
        order_version = ${r.orderVersion}, last_position = ${r.lastPosition}
      where saga_id = ${r.sagaId}`;
    return;
  }
  await raw`
    insert into order_fulfillment_sagas (saga_id, order_id, patient_id, state, current_task,
      completed_steps, compensations_done, failed_step, failure_reason, needs_intervention,
      intervention_reason, intervention_since, attempts, last_error, started_at, updated_at,
      completed_at, version, order_version, last_position)
    values (${r.sagaId}, ${r.orderId}, ${r.patientId}, ${r.state}, ${r.currentTask},
      ${r.completedSteps}, ${r.compensationsDone}, ${r.failedStep}, ${r.failureReason},
      ${r.needsIntervention}, ${r.interventionReason}, ${timestampParam(r.interventionSince)}, ${r.attempts},
      ${r.lastError}, ${timestampParam(r.startedAt)}, ${timestampParam(r.updatedAt)}, ${timestampParam(r.completedAt)}, ${r.version},
      ${r.orderVersion}, ${r.lastPosition})
    on conflict (saga_id) do update set
      state = excluded.state, current_task = excluded.current_task,
      completed_steps = excluded.completed_steps, compensations_done = excluded.compensations_done,
      failed_step = excluded.failed_step, failure_reason = excluded.failure_reason,
      needs_intervention = excluded.needs_intervention,
      intervention_reason = excluded.intervention_reason,
      intervention_since = excluded.intervention_since, attempts = excluded.attempts,
      last_error = excluded.last_error, updated_at = excluded.updated_at,
      completed_at = excluded.completed_at, version = excluded.version,
      order_version = excluded.order_version, last_position = excluded.last_position`;
}

/** Locks the saga row for the rest of the transaction: one task or command at a time per saga. */
export async function lockSaga(tx: Tx, sagaId: string): Promise<Saga | null> {
  const [row] = await rawSql(tx)<SagaRecord[]>`
    select saga_id, order_id, patient_id, state, completed_steps, compensations_done, failed_step,
      failure_reason, needs_intervention, intervention_reason, intervention_since, attempts,
      last_error, started_at, updated_at, completed_at, version, order_version, last_position
    from order_fulfillment_sagas where saga_id = ${sagaId} for update`;
  return row ? recordToSaga(row) : null;
}

/** The saga rows of these ids, as they are (replay continues from them page by page). */
export async function getSagas(db: DbOrTx, sagaIds: readonly string[]): Promise<Saga[]> {
  const rows = await rawSql(db)<SagaRecord[]>`
    select saga_id, order_id, patient_id, state, completed_steps, compensations_done, failed_step,
      failure_reason, needs_intervention, intervention_reason, intervention_since, attempts,
      last_error, started_at, updated_at, completed_at, version, order_version, last_position
    from order_fulfillment_sagas where saga_id = any(${sagaIds}::uuid[])`;
  return rows.map(recordToSaga);
}
