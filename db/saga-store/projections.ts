import type { StoredEvent } from '@/lib/saga/events';
import type { Tx } from '../client';
import { inventoryItems, inventoryReservations, prescriptions, shipments } from '../schema';
import { tableCodec, type Row, type TableCodec } from './codec';
import { orderRows } from './sagas';
import { runPrepared } from './sql';
import type { PgTable } from 'drizzle-orm/pg-core';

/**
 * The read models other than the saga row: orders, prescriptions, reservations (and the
 * `reserved` total they add up to) and shipments. Live appends and replay both run every
 * event through here, so they cannot drift apart. Each event is one statement, built at load
 * from db/schema.ts.
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

const prescriptionRows = tableCodec(prescriptions);
const shipmentRows = tableCodec(shipments);
const reservationRows = tableCodec(inventoryReservations);
const stockRows = tableCodec(inventoryItems);

/** `insert into <table> (<every column>) values ($1::<type>, …)`, built once: one whole row. */
function insertRow<T extends PgTable>(codec: TableCodec<T>) {
  const text = `insert into ${codec.table} (${codec.fields.map((f) => f.name).join(', ')})
    values (${codec.fields.map((f, i) => `$${i + 1}::${f.sqlType}`).join(', ')})`;
  return (tx: Tx, row: Row<T>) => runPrepared(tx, text, codec.encode(row));
}

const INSERT_ORDER = insertRow(orderRows);
const INSERT_PRESCRIPTION = insertRow(prescriptionRows);
const INSERT_SHIPMENT = insertRow(shipmentRows);

const c = <T extends PgTable>(codec: TableCodec<T>, key: keyof Row<T>) => codec.field(key).name;

// Any number of prescriptions or orders ($1 ids, $2 times): one event's (projectDomainEvent) or a
// bulk batch's (projectDomainEvents). Times as text[], not timestamptz[]: the array types the
// driver serialises.
const CANCEL_PRESCRIPTIONS = `update ${prescriptionRows.table}
  set ${c(prescriptionRows, 'status')} = 'cancelled', ${c(prescriptionRows, 'cancelledAt')} = p.at::timestamptz
  from unnest($1::text[], $2::text[]) as p(id, at)
  where ${c(prescriptionRows, 'prescriptionId')} = p.id`;
const CANCEL_ORDERS = `update ${orderRows.table}
  set ${c(orderRows, 'status')} = 'cancelled', ${c(orderRows, 'cancelledAt')} = o.at::timestamptz
  from unnest($1::text[], $2::text[]) as o(id, at)
  where ${c(orderRows, 'orderId')} = o.id`;

/**
 * The stock side of a reservation or release: `reserved` moves by each line's quantity.
 * $1 skus, $2 deltas, $3 whether to move it at all (replay: no). The rows are already locked,
 * in SKU order, by the task that planned the lines (reserve-inventory, release-inventory), so
 * one statement for all lines takes no lock out of order.
 */
const STOCK = c(stockRows, 'sku');
const RESERVED = c(stockRows, 'reserved');
const adjustStockCte = `stock as (
    update ${stockRows.table} i set ${RESERVED} = i.${RESERVED} + l.delta,
      ${c(stockRows, 'updatedAt')} = now()
    from unnest($1::text[], $2::int[]) as l(sku, delta)
    where i.${STOCK} = l.sku and $3::boolean
    returning 1
  )`;

const RESERVE = `with ${adjustStockCte}, reserved as (
    insert into ${reservationRows.table} (${c(reservationRows, 'sagaId')}, ${c(reservationRows, 'sku')},
      ${c(reservationRows, 'quantity')}, ${c(reservationRows, 'status')}, ${c(reservationRows, 'reservedAt')})
    select $4::uuid, l.sku, l.quantity, 'active', $5::timestamptz
    from unnest($1::text[], $2::int[]) as l(sku, quantity)
    returning 1
  ) select (select count(*)::int from stock) as stock, (select count(*)::int from reserved) as reserved`;

const RELEASE = `with ${adjustStockCte}, released as (
    update ${reservationRows.table} set ${c(reservationRows, 'status')} = 'released',
      ${c(reservationRows, 'releasedAt')} = $5::timestamptz
    where ${c(reservationRows, 'sagaId')} = $4::uuid and ${c(reservationRows, 'status')} = 'active'
    returning 1
  ) select (select count(*)::int from stock) as stock, (select count(*)::int from released) as released`;

/**
 * The statement that projects one stored event (not yet sent: pass it to `pipeline`, or await
 * it), or null for events that change only the saga row.
 */
export function projectDomainEvent(
  tx: Tx,
  event: StoredEvent,
  options: ProjectionOptions = { adjustStock: true },
): PromiseLike<unknown> | null {
  const sagaId = event.metadata.correlationId;
  const at = event.recordedAt;
  switch (event.type) {
    case 'order.created': {
      const p = event.payload;
      return INSERT_ORDER(tx, {
        orderId: p.orderId,
        sagaId: p.sagaId,
        patientId: p.patientId,
        prescriberId: p.prescriberId,
        medications: p.medications,
        shippingAddress: p.shippingAddress,
        status: 'created',
        idempotencyKey: p.idempotencyKey,
        requestHash: p.requestHash,
        createdAt: at,
        cancelledAt: null,
      });
    }
    case 'order.prescription_created': {
      const p = event.payload;
      return INSERT_PRESCRIPTION(tx, {
        prescriptionId: p.prescriptionId,
        orderId: p.orderId,
        sagaId,
        prescriberId: p.prescriberId,
        status: 'active',
        createdAt: at,
        cancelledAt: null,
      });
    }
    case 'order.prescription_cancelled':
      return runPrepared(tx, CANCEL_PRESCRIPTIONS, [
        [event.payload.prescriptionId],
        [at.toISOString()],
      ]);
    case 'order.inventory_reserved': {
      const { lines } = event.payload;
      return runPrepared(tx, RESERVE, [
        lines.map((l) => l.sku),
        lines.map((l) => l.quantity),
        options.adjustStock,
        sagaId,
        at.toISOString(),
      ]);
    }
    case 'order.inventory_released': {
      const { lines } = event.payload;
      return runPrepared(tx, RELEASE, [
        lines.map((l) => l.sku),
        lines.map((l) => -l.quantity),
        options.adjustStock,
        sagaId,
        at.toISOString(),
      ]);
    }
    case 'order.shipment_initiated': {
      const p = event.payload;
      return INSERT_SHIPMENT(tx, {
        shipmentId: p.shipmentId,
        orderId: p.orderId,
        sagaId,
        carrierReference: p.carrierReference,
        createdAt: at,
      });
    }
    case 'order.cancelled':
      return runPrepared(tx, CANCEL_ORDERS, [[event.payload.orderId], [at.toISOString()]]);
    default:
      return null; // saga-stream events and failures change only the saga row
  }
}

const LOCK_STOCK = `select 1 from ${stockRows.table} where ${STOCK} = any($1::text[])
  order by ${STOCK} for update`;
const ADJUST_STOCK = `update ${stockRows.table} i set ${RESERVED} = i.${RESERVED} + l.delta,
    ${c(stockRows, 'updatedAt')} = now()
  from (select sku, sum(delta)::int as delta from unnest($1::text[], $2::int[]) as l(sku, delta)
    group by sku) l
  where i.${STOCK} = l.sku`;
const RELEASE_ALL = `update ${reservationRows.table} res set ${c(reservationRows, 'status')} = 'released',
    ${c(reservationRows, 'releasedAt')} = r.at::timestamptz
  from unnest($1::uuid[], $2::text[]) as r(saga, at)
  where res.${c(reservationRows, 'sagaId')} = r.saga and res.${c(reservationRows, 'status')} = 'active'`;

/**
 * projectDomainEvent for many sagas' events at once (a bulk batch, apply-decisions.ts): the
 * same rows, in a fixed number of statements for the compensations' events (releases, cancelled
 * prescriptions and orders: one statement per kind for the whole batch), one statement each for
 * any other event. The statements, not yet sent (see `pipeline`), in two parts: `rows`, and
 * `stock`: the releases' stock rows locked in SKU order (as release-inventory's read does for
 * one saga), then moved by the sum of the batch's lines per SKU, which the caller sends last
 * (new sagas' reservations wait for those row locks until the commit, so they are taken late).
 * The caller holds every saga's row lock.
 */
export function projectDomainEvents(
  tx: Tx,
  events: readonly StoredEvent[],
): { rows: PromiseLike<unknown>[]; stock: PromiseLike<unknown>[] } {
  const statements: PromiseLike<unknown>[] = [];
  const released = { sagaIds: [] as string[], ats: [] as string[] };
  const stock = { skus: [] as string[], deltas: [] as number[] };
  const prescriptionsCancelled = { ids: [] as string[], ats: [] as string[] };
  const ordersCancelled = { ids: [] as string[], ats: [] as string[] };
  for (const event of events) {
    const at = event.recordedAt.toISOString();
    switch (event.type) {
      case 'order.inventory_released':
        released.sagaIds.push(event.metadata.correlationId);
        released.ats.push(at);
        for (const l of event.payload.lines) {
          stock.skus.push(l.sku);
          stock.deltas.push(-l.quantity);
        }
        break;
      case 'order.prescription_cancelled':
        prescriptionsCancelled.ids.push(event.payload.prescriptionId);
        prescriptionsCancelled.ats.push(at);
        break;
      case 'order.cancelled':
        ordersCancelled.ids.push(event.payload.orderId);
        ordersCancelled.ats.push(at);
        break;
      default: {
        const statement = projectDomainEvent(tx, event);
        if (statement) statements.push(statement);
      }
    }
  }
  if (released.sagaIds.length > 0)
    statements.push(runPrepared(tx, RELEASE_ALL, [released.sagaIds, released.ats]));
  if (prescriptionsCancelled.ids.length > 0)
    statements.push(
      runPrepared(tx, CANCEL_PRESCRIPTIONS, [
        prescriptionsCancelled.ids,
        prescriptionsCancelled.ats,
      ]),
    );
  if (ordersCancelled.ids.length > 0)
    statements.push(runPrepared(tx, CANCEL_ORDERS, [ordersCancelled.ids, ordersCancelled.ats]));
  const stockStatements =
    stock.skus.length === 0
      ? []
      : [
          runPrepared(tx, LOCK_STOCK, [[...new Set(stock.skus)]]),
          runPrepared(tx, ADJUST_STOCK, [stock.skus, stock.deltas]),
        ];
  return { rows: statements, stock: stockStatements };
}
