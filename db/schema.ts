import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { EventMetadata, OrderLine, ShippingAddress } from '@/lib/saga/events';
import { SAGA_STATES } from '@/lib/saga/model';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const inList = (column: string, values: readonly string[]) =>
  sql.raw(`${column} in (${values.map((v) => `'${v}'`).join(', ')})`);

/** The event store: append-only. Every other table below `orders` is a projection of it. */
export const events = pgTable(
  'events',
  {
    position: bigint('position', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    streamId: text('stream_id').notNull(),
    version: integer('version').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    metadata: jsonb('metadata').$type<EventMetadata>().notNull(),
    idempotencyKey: text('idempotency_key'),
    recordedAt: ts('recorded_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('events_stream_version_key').on(t.streamId, t.version),
    uniqueIndex('events_idempotency_key').on(t.idempotencyKey),
    check('events_version_positive', sql`${t.version} >= 1`),
  ],
);

export const orderFulfillmentSagas = pgTable(
  'order_fulfillment_sagas',
  {
    sagaId: uuid('saga_id').primaryKey(),
    orderId: text('order_id').notNull(),
    patientId: text('patient_id').notNull(),
    state: text('state', { enum: SAGA_STATES }).notNull(),
    /** The task the saga waits for (step or compensation); null once finished. */
    currentTask: text('current_task'),
    completedSteps: text('completed_steps').array().notNull(),
    compensationsDone: text('compensations_done').array().notNull(),
    failedStep: text('failed_step'),
    failureReason: text('failure_reason'),
    needsIntervention: boolean('needs_intervention').notNull().default(false),
    interventionReason: text('intervention_reason'),
    interventionSince: ts('intervention_since'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    startedAt: ts('started_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
    completedAt: ts('completed_at'),
    version: integer('version').notNull(),
    orderVersion: integer('order_version').notNull(),
    lastPosition: bigint('last_position', { mode: 'number' }).notNull(),
  },
  (t) => [
    uniqueIndex('sagas_order_id_key').on(t.orderId),
    index('sagas_started_at_idx').on(t.startedAt.desc(), t.sagaId.desc()),
    index('sagas_state_started_at_idx').on(t.state, t.startedAt.desc(), t.sagaId.desc()),
    index('sagas_patient_id_idx').on(t.patientId),
    index('sagas_needs_intervention_idx')
      .on(t.interventionSince)
      .where(sql`${t.needsIntervention}`),
    index('sagas_in_flight_updated_at_idx')
      .on(t.updatedAt)
      .where(sql`${t.state} not in ('COMPLETED', 'CANCELLED')`),
    check('sagas_state_valid', inList('state', SAGA_STATES)),
    check('sagas_attempts_nonnegative', sql`${t.attempts} >= 0`),
  ],
);

export const orders = pgTable(
  'orders',
  {
    orderId: text('order_id').primaryKey(),
    sagaId: uuid('saga_id').notNull(),
    patientId: text('patient_id').notNull(),
    prescriberId: text('prescriber_id'),
    medications: jsonb('medications').$type<OrderLine[]>().notNull(),
    shippingAddress: jsonb('shipping_address').$type<ShippingAddress>().notNull(),
    status: text('status', { enum: ['created', 'cancelled'] }).notNull(),
    idempotencyKey: text('idempotency_key'),
    /** SHA-256 of the canonical request body: the same key with another body is a conflict. */
    requestHash: text('request_hash'),
    createdAt: ts('created_at').notNull(),
    cancelledAt: ts('cancelled_at'),
  },
  (t) => [
    uniqueIndex('orders_saga_id_key').on(t.sagaId),
    uniqueIndex('orders_idempotency_key').on(t.idempotencyKey),
    check('orders_status_valid', sql`${t.status} in ('created', 'cancelled')`),
  ],
);

export const medications = pgTable(
  'medications',
  {
    sku: text('sku').primaryKey(),
    name: text('name').notNull(),
    requiresPrescription: boolean('requires_prescription').notNull(),
    maxQuantityPerOrder: integer('max_quantity_per_order').notNull(),
  },
  (t) => [check('medications_max_quantity_positive', sql`${t.maxQuantityPerOrder} > 0`)],
);

export const inventoryItems = pgTable(
  'inventory_items',
  {
    sku: text('sku')
      .primaryKey()
      .references(() => medications.sku),
    onHand: integer('on_hand').notNull(),
    /** Sum of active reservations; kept by the projection, guarded by the checks below. */
    reserved: integer('reserved').notNull().default(0),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    check('inventory_on_hand_nonnegative', sql`${t.onHand} >= 0`),
    check('inventory_reserved_nonnegative', sql`${t.reserved} >= 0`),
    check('inventory_reserved_within_on_hand', sql`${t.reserved} <= ${t.onHand}`),
  ],
);

export const inventoryReservations = pgTable(
  'inventory_reservations',
  {
    sagaId: uuid('saga_id').notNull(),
    sku: text('sku')
      .notNull()
      .references(() => inventoryItems.sku),
    quantity: integer('quantity').notNull(),
    status: text('status', { enum: ['active', 'released'] }).notNull(),
    reservedAt: ts('reserved_at').notNull(),
    releasedAt: ts('released_at'),
  },
  (t) => [
    primaryKey({ columns: [t.sagaId, t.sku] }),
    index('reservations_active_sku_idx')
      .on(t.sku)
      .where(sql`${t.status} = 'active'`),
    check('reservations_quantity_positive', sql`${t.quantity} > 0`),
    check('reservations_status_valid', sql`${t.status} in ('active', 'released')`),
  ],
);

export const prescriptions = pgTable(
  'prescriptions',
  {
    prescriptionId: text('prescription_id').primaryKey(),
    orderId: text('order_id').notNull(),
    sagaId: uuid('saga_id').notNull(),
    prescriberId: text('prescriber_id'),
    status: text('status', { enum: ['active', 'cancelled'] }).notNull(),
    createdAt: ts('created_at').notNull(),
    cancelledAt: ts('cancelled_at'),
  },
  (t) => [
    uniqueIndex('prescriptions_order_id_key').on(t.orderId),
    check('prescriptions_status_valid', sql`${t.status} in ('active', 'cancelled')`),
  ],
);

export const shipments = pgTable(
  'shipments',
  {
    shipmentId: text('shipment_id').primaryKey(),
    orderId: text('order_id').notNull(),
    sagaId: uuid('saga_id').notNull(),
    carrierReference: text('carrier_reference').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [uniqueIndex('shipments_order_id_key').on(t.orderId)],
);

export const faultInjections = pgTable(
  'fault_injections',
  {
    task: text('task').primaryKey(),
    failureRate: real('failure_rate').notNull().default(0),
    transientRate: real('transient_rate').notNull().default(0),
    latencyMs: integer('latency_ms').notNull().default(0),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    check('faults_failure_rate_range', sql`${t.failureRate} between 0 and 1`),
    check('faults_transient_rate_range', sql`${t.transientRate} between 0 and 1`),
    check('faults_rates_sum', sql`${t.failureRate} + ${t.transientRate} <= 1`),
    check('faults_latency_range', sql`${t.latencyMs} between 0 and 60000`),
  ],
);

/** One row per live worker process; a stale row means the process died holding its jobs. */
export const workerHeartbeats = pgTable('worker_heartbeats', {
  poolId: text('pool_id').primaryKey(),
  workerIds: text('worker_ids').array().notNull(),
  hostname: text('hostname').notNull(),
  pid: integer('pid').notNull(),
  startedAt: ts('started_at').notNull().defaultNow(),
  lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
});
