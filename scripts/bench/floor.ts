import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { sagaMonthOf } from '@/lib/saga/events';
import type { BenchOrder } from './orders';

/**
 * The floor: the same four steps, writing the same rows each step writes in RxSaga (its
 * events, the saga row, the domain rows: order, prescription, reservations + stock, shipment),
 * one plain transaction per step, with no queue in between. `concurrency` sagas are in flight;
 * each runs its steps back to back. No job rows, no polling, no payload validation: this is
 * the limit for this design on this database.
 */
export interface FloorResult {
  sagas: number;
  seconds: number;
  sagasPerSecond: number;
  latenciesMs: number[];
}

export async function runFloor(
  sql: postgres.Sql,
  orders: readonly BenchOrder[],
  concurrency: number,
  onProgress: (done: number) => void,
): Promise<FloorResult> {
  let next = 0;
  let done = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= orders.length) return;
      const t0 = performance.now();
      await runOne(sql, orders[i]!);
      latencies.push(performance.now() - t0);
      onProgress(++done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - started) / 1000;
  return {
    sagas: orders.length,
    seconds,
    sagasPerSecond: orders.length / seconds,
    latenciesMs: latencies,
  };
}

const meta = (sagaId: string, key: string) => ({
  correlationId: sagaId,
  causationId: null,
  idempotencyKey: key,
  actor: null,
});

async function appendRows(
  tx: postgres.TransactionSql,
  sagaId: string,
  rows: { stream: string; version: number; type: string; payload: unknown; key: string }[],
) {
  // Its partition: a floor saga lasts milliseconds, so it started in this month (bar a run at midnight on the 1st).
  const sagaMonth = sagaMonthOf(new Date());
  await tx`insert into events ${tx(
    rows.map((r) => ({
      saga_month: sagaMonth,
      stream_id: r.stream,
      version: r.version,
      type: r.type,
      payload: tx.json(r.payload as postgres.JSONValue),
      metadata: tx.json(meta(sagaId, r.key)),
      idempotency_key: r.key,
    })),
  )}`;
}

async function runOne(sql: postgres.Sql, order: BenchOrder): Promise<void> {
  const sagaId = randomUUID();
  const input = order.input;
  const orderId = `${input.orderId!}-floor`;
  const sagaStream = `order_fulfillment_saga-${sagaId}`;
  const orderStream = `order-${orderId}`;
  // Steps 2-4 each append their outcome to the order stream and the saga's move to its next
  // state, both at the step's number as stream version (a step is one event on each stream).
  const stepEnded = (
    step: number,
    outcome: { type: string; payload: unknown; key: string },
    to: string,
  ) => [
    {
      stream: orderStream,
      version: step,
      type: outcome.type,
      payload: outcome.payload,
      key: `${sagaId}:${outcome.key}`,
    },
    {
      stream: sagaStream,
      version: step,
      type: 'order_fulfillment_saga.state_changed',
      payload: { to },
      key: `${sagaId}:s${step}`,
    },
  ];

  // 1. create: the order, its event and the saga's, the saga row.
  await sql.begin(async (tx) => {
    await tx`insert into orders (order_id, saga_id, patient_id, prescriber_id, medications, shipping_address, status, created_at)
      values (${orderId}, ${sagaId}, ${input.patientId}, ${input.prescriberId ?? null}, ${tx.json(input.medications)},
              ${tx.json(input.shippingAddress)}, 'created', now())`;
    await appendRows(tx, sagaId, [
      {
        stream: orderStream,
        version: 1,
        type: 'order.created',
        payload: { orderId, sagaId, ...input },
        key: `${sagaId}:order.created`,
      },
      {
        stream: sagaStream,
        version: 1,
        type: 'order_fulfillment_saga.started',
        payload: { sagaId, orderId },
        key: `${sagaId}:started`,
      },
    ]);
    await tx`insert into order_fulfillment_sagas (saga_id, order_id, patient_id, state, current_task, completed_steps,
        compensations_done, started_at, updated_at, version, order_version, last_position)
      values (${sagaId}, ${orderId}, ${input.patientId}, 'PENDING_PRESCRIPTION', 'create-prescription', ${['create-order']},
        ${[]}, now(), now(), 1, 1, 0)`;
  });

  // 2. prescription
  await sql.begin(async (tx) => {
    await tx`select * from order_fulfillment_sagas where saga_id = ${sagaId} for update`;
    const prescriptionId = `RX-${randomUUID()}`;
    await tx`insert into prescriptions (prescription_id, order_id, saga_id, prescriber_id, status, created_at)
      values (${prescriptionId}, ${orderId}, ${sagaId}, ${input.prescriberId ?? null}, 'active', now())`;
    await appendRows(
      tx,
      sagaId,
      stepEnded(
        2,
        { type: 'order.prescription_created', payload: { orderId, prescriptionId }, key: 'rx' },
        'PENDING_INVENTORY_RESERVATION',
      ),
    );
    await tx`update order_fulfillment_sagas set state = 'PENDING_INVENTORY_RESERVATION', current_task = 'reserve-inventory',
      completed_steps = ${['create-order', 'create-prescription']}, updated_at = now(), version = 2, order_version = 2
      where saga_id = ${sagaId}`;
  });

  // 3. inventory: lock stock rows in SKU order, insert reservations, raise `reserved`.
  await sql.begin(async (tx) => {
    await tx`select * from order_fulfillment_sagas where saga_id = ${sagaId} for update`;
    const lines = [...new Map(input.medications.map((m) => [m.sku, m])).values()].sort((a, b) =>
      a.sku.localeCompare(b.sku),
    );
    const skus = lines.map((l) => l.sku);
    await tx`select sku, on_hand, reserved from inventory_items where sku = any(${skus}) order by sku for update`;
    await tx`insert into inventory_reservations ${tx(
      lines.map((l) => ({
        saga_id: sagaId,
        sku: l.sku,
        quantity: l.quantity,
        status: 'active',
        reserved_at: new Date(),
      })),
    )}`;
    for (const l of lines) {
      await tx`update inventory_items set reserved = reserved + ${l.quantity}, updated_at = now() where sku = ${l.sku}`;
    }
    await appendRows(
      tx,
      sagaId,
      stepEnded(
        3,
        { type: 'order.inventory_reserved', payload: { orderId, lines }, key: 'inv' },
        'PENDING_SHIPMENT',
      ),
    );
    await tx`update order_fulfillment_sagas set state = 'PENDING_SHIPMENT', current_task = 'initiate-shipment',
      completed_steps = ${['create-order', 'create-prescription', 'reserve-inventory']}, updated_at = now(), version = 3, order_version = 3
      where saga_id = ${sagaId}`;
  });

  // 4. shipment: the saga completes.
  await sql.begin(async (tx) => {
    await tx`select * from order_fulfillment_sagas where saga_id = ${sagaId} for update`;
    const shipmentId = `SHP-${randomUUID()}`;
    await tx`insert into shipments (shipment_id, order_id, saga_id, carrier_reference, created_at)
      values (${shipmentId}, ${orderId}, ${sagaId}, ${`SIM-${sagaId}`}, now())`;
    await appendRows(tx, sagaId, [
      ...stepEnded(
        4,
        { type: 'order.shipment_initiated', payload: { orderId, shipmentId }, key: 'ship' },
        'COMPLETED',
      ),
      {
        stream: sagaStream,
        version: 5,
        type: 'order_fulfillment_saga.completed',
        payload: { orderId },
        key: `${sagaId}:done`,
      },
    ]);
    await tx`update order_fulfillment_sagas set state = 'COMPLETED', current_task = null,
      completed_steps = ${['create-order', 'create-prescription', 'reserve-inventory', 'initiate-shipment']},
      updated_at = now(), completed_at = now(), version = 5, order_version = 4
      where saga_id = ${sagaId}`;
  });
}
