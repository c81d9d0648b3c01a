import { and, eq, sql } from 'drizzle-orm';
import type { StoredEvent } from '@/lib/saga/events';
import { expectedTask, type Saga } from '@/lib/saga/saga';
import type { CompensationTask, Step, StepTask } from '@/lib/saga/model';
import type { DbOrTx, Tx } from './client';
import {
  inventoryItems,
  inventoryReservations,
  orderFulfillmentSagas,
  orders,
  prescriptions,
  shipments,
} from './schema';

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
  const sagaId = event.metadata.correlationId;
  switch (event.type) {
    case 'order.created': {
      const p = event.payload;
      await tx.insert(orders).values({
        orderId: p.orderId,
        sagaId: p.sagaId,
        patientId: p.patientId,
        prescriberId: p.prescriberId,
        medications: p.medications,
        shippingAddress: p.shippingAddress,
        status: 'created',
        idempotencyKey: p.idempotencyKey,
        requestHash: p.requestHash,
        createdAt: event.recordedAt,
      });
      return;
    }
    case 'order.prescription_created':
      await tx.insert(prescriptions).values({
        prescriptionId: event.payload.prescriptionId,
        orderId: event.payload.orderId,
        sagaId,
        prescriberId: event.payload.prescriberId,
        status: 'active',
        createdAt: event.recordedAt,
      });
      return;
    case 'order.prescription_cancelled':
      await tx
        .update(prescriptions)
        .set({ status: 'cancelled', cancelledAt: event.recordedAt })
        .where(eq(prescriptions.prescriptionId, event.payload.prescriptionId));
      return;
    case 'order.inventory_reserved':
      await Promise.all([
        tx.insert(inventoryReservations).values(
          event.payload.lines.map((l) => ({
            sagaId,
            sku: l.sku,
            quantity: l.quantity,
            status: 'active' as const,
            reservedAt: event.recordedAt,
          })),
        ),
        ...(options.adjustStock ? adjustReserved(tx, event.payload.lines, +1) : []),
      ]);
      return;
    case 'order.inventory_released':
      await Promise.all([
        tx
          .update(inventoryReservations)
          .set({ status: 'released', releasedAt: event.recordedAt })
          .where(and(eq(inventoryReservations.sagaId, sagaId), eq(inventoryReservations.status, 'active'))),
        ...(options.adjustStock ? adjustReserved(tx, event.payload.lines, -1) : []),
      ]);
      return;
    case 'order.shipment_initiated':
      await tx.insert(shipments).values({
        shipmentId: event.payload.shipmentId,
        orderId: event.payload.orderId,
        sagaId,
        carrierReference: event.payload.carrierReference,
        createdAt: event.recordedAt,
      });
      return;
    case 'order.cancelled':
      await tx
        .update(orders)
        .set({ status: 'cancelled', cancelledAt: event.recordedAt })
        .where(eq(orders.orderId, event.payload.orderId));
      return;
    default:
      return; // saga-stream events and failures change only the saga row
  }
}

/**
 * One update per line, issued together: they are pipelined and the server runs them in line
 * order (lines are in SKU order), so stock rows are still locked in SKU order.
 */
function adjustReserved(tx: Tx, lines: readonly { sku: string; quantity: number }[], sign: 1 | -1): Promise<unknown>[] {
  return lines.map((l) =>
    tx
      .update(inventoryItems)
      .set({ reserved: sql`${inventoryItems.reserved} + ${sign * l.quantity}`, updatedAt: sql`now()` })
      .where(eq(inventoryItems.sku, l.sku))
      .execute(),
  );
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

export function rowToSaga(row: SagaRow): Saga {
  return {
    sagaId: row.sagaId,
    orderId: row.orderId,
    patientId: row.patientId,
    state: row.state,
    completedSteps: row.completedSteps as Step[],
    compensationsDone: row.compensationsDone as CompensationTask[],
    failedStep: row.failedStep as StepTask | null,
    failureReason: row.failureReason,
    needsIntervention: row.needsIntervention,
    interventionReason: row.interventionReason,
    interventionSince: row.interventionSince,
    attempts: row.attempts,
    lastError: row.lastError,
    startedAt: row.startedAt,
    updatedAt: row.updatedAt,
    completedAt: row.completedAt,
    version: row.version,
    orderVersion: row.orderVersion,
    lastPosition: row.lastPosition,
  };
}

export async function saveSaga(tx: Tx, saga: Saga): Promise<void> {
  const row = sagaToRow(saga);
  await tx
    .insert(orderFulfillmentSagas)
    .values(row)
    .onConflictDoUpdate({ target: orderFulfillmentSagas.sagaId, set: row });
}

/** Locks the saga row for the rest of the transaction: one task or command at a time per saga. */
export async function lockSaga(tx: Tx, sagaId: string): Promise<Saga | null> {
  const [row] = await tx
    .select()
    .from(orderFulfillmentSagas)
    .where(eq(orderFulfillmentSagas.sagaId, sagaId))
    .for('update');
  return row ? rowToSaga(row) : null;
}

export async function getSaga(db: DbOrTx, sagaId: string): Promise<Saga | null> {
  const [row] = await db.select().from(orderFulfillmentSagas).where(eq(orderFulfillmentSagas.sagaId, sagaId));
  return row ? rowToSaga(row) : null;
}
