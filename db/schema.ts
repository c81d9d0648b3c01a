import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  smallint,
  check,
  date,
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
import type { EventMetadata, EventType, OrderLine, ShippingAddress } from '@/lib/saga/events';
import { ROLES, type Role } from '@/lib/auth/roles';
import { SAGA_STATES } from '@/lib/saga/model';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const inList = (column: string, values: readonly string[]) =>
  sql.raw(`${column} in (${values.map((v) => `'${v}'`).join(', ')})`);

/**
 * Event types that stats and metrics count: step failures, retries, escalations, compensations.
 * SQL knows this list as `event_type_is_signal(type)`, and TERMINAL_STATES (lib/saga/model.ts)
 * as `saga_state_is_terminal(state)` (migration 0008_sql_definitions): queries, triggers, the
 * rollup rebuild and the partial indexes below use those, and db/sql-definitions.int.test.ts
 * fails when a function and its constant disagree.
 */
export const SIGNAL_EVENT_TYPES = [
  'order.prescription_failed',
  'order.inventory_reservation_failed',
  'order.shipment_initiation_failed',
  'order.inventory_released',
  'order.prescription_cancelled',
  'order.cancelled',
  'order_fulfillment_saga.attempt_failed',
  'order_fulfillment_saga.intervention_required',
] as const satisfies readonly EventType[];

/**
 * The event store: append-only. Every other table below `orders` is a projection of it.
 * Partitioned by month of the saga's start (`saga_month`, migration 0011_events_partitioned and
 * docs/history.md): every event of a saga, on either of its streams, lands in one partition, so
 * the unique keys below hold per stream although PostgreSQL makes them include the partition key.
 * Drizzle does not model partitioning: this is the parent table's shape.
 */
export const events = pgTable(
  'events',
  {
    position: bigint('position', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    /** First day (UTC) of the month the saga started: `saga_month(started_at)` in SQL. */
    sagaMonth: date('saga_month', { mode: 'string' }).notNull(),
    version: integer('version').notNull(),
    recordedAt: ts('recorded_at').notNull().defaultNow(),
    streamId: text('stream_id').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    metadata: jsonb('metadata').$type<EventMetadata>().notNull(),
    idempotencyKey: text('idempotency_key'),
  },
  (t) => [
    primaryKey({ name: 'events_pkey', columns: [t.position, t.sagaMonth] }),
    uniqueIndex('events_stream_version_key').on(t.streamId, t.version, t.sagaMonth),
    uniqueIndex('events_idempotency_key').on(t.idempotencyKey, t.sagaMonth),
    // Stats and /api/metrics count failures and compensations by type and time; a partial index
    // over just those (rare) types keeps that cheap without indexing every event.
    index('events_signal_type_recorded_at_idx')
      .on(t.type, t.recordedAt)
      .where(sql`event_type_is_signal(${t.type})`),
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
    // The `success_rate_low` alert counts the sagas that finished in the last hour.
    index('sagas_completed_at_idx')
      .on(t.completedAt)
      .where(sql`${t.completedAt} is not null`),
    // In-flight sagas by last progress: the stall detector (not flagged, no progress since) and
    // the alert facts' oldest in flight (its first entry).
    index('sagas_in_flight_updated_at_idx')
      .on(t.updatedAt, t.needsIntervention)
      .where(sql`not saga_state_is_terminal(${t.state})`),
    // In-flight sagas by start: the stats' in-flight counts (stats-rollup.ts readInFlight) read
    // this index alone, and a window's read only the sagas that started in it. Sagas waiting for a
    // human stay in flight, so the whole index grows with history; a window's part does not.
    index('sagas_in_flight_started_at_idx')
      .on(t.startedAt, t.state, t.needsIntervention)
      .where(sql`not saga_state_is_terminal(${t.state})`),
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

/**
 * Who did what, for operator actions (retry, cancel, stock, faults, sign-in). Written in the same
 * transaction as the change it records; saga actions are also events on the saga's timeline.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    /**
     * Keyset cursor of GET /api/audit: ids only grow, so newest first is `id desc`. The indexes
     * below keep `id` ascending: scanned backwards they give exactly `order by id desc`.
     */
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: ts('at').notNull().defaultNow(),
    actor: text('actor').notNull(),
    role: text('role').notNull(),
    action: text('action').notNull(),
    target: text('target'),
    reason: text('reason'),
    before: jsonb('before'),
    after: jsonb('after'),
    requestId: text('request_id'),
  },
  (t) => [
    index('audit_log_action_id_idx').on(t.action, t.id),
    index('audit_log_target_id_idx').on(t.target, t.id),
    check('audit_log_role_valid', inList('role', [...ROLES, 'anonymous'])),
  ],
);

/**
 * Sign-in attempts still inside the brute-force window (lib/auth/sign-in-limit.ts), one row per
 * attempt and key (`ip:<address>`, or `all` for the global limit). An attempt is written as a
 * failure before its password is checked, under an advisory lock on the key, so concurrent
 * attempts on any web instance cannot all slip under the limit; a successful one deletes its
 * address's rows. Rows older than the window are deleted as new attempts come in.
 */
export const signInAttempts = pgTable(
  'sign_in_attempts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    key: text('key').notNull(),
    at: ts('at').notNull(),
  },
  (t) => [
    index('sign_in_attempts_key_at_idx').on(t.key, t.at),
    index('sign_in_attempts_at_idx').on(t.at),
  ],
);

/**
 * Stats rollups for long windows (7d, all): /api/stats reads these instead of every saga and
 * event. Maintained by triggers (migration 0002_stats_rollup) in the transaction that changes
 * the saga row or appends the event, so every writer (applyDecision, replay, direct inserts)
 * keeps them exact; replay truncates and rebuilds saga_stats_hourly with the sagas, bulk loads
 * turn the triggers off and call rebuild_stats_rollups(). Not written by the app.
 *
 * saga_stats_hourly: finished sagas (COMPLETED or CANCELLED) by start hour, finish hour and
 * duration bucket (saga_duration_bucket(): 8 log-spaced buckets per doubling from 1 ms, so a
 * percentile read from it is within one bucket, ~9 %, of the exact one). `shard` (the writing
 * backend's pid % 8, migration 0016; the rebuilds write 0) keeps concurrent completions off one
 * row: readers sum over it.
 */
export const sagaStatsHourly = pgTable(
  'saga_stats_hourly',
  {
    startedHour: ts('started_hour').notNull(),
    finishedHour: ts('finished_hour').notNull(),
    durationBucket: smallint('duration_bucket').notNull(),
    completed: integer('completed').notNull().default(0),
    cancelled: integer('cancelled').notNull().default(0),
    /** Finished sagas that ran at least one compensation. */
    compensated: integer('compensated').notNull().default(0),
    needsIntervention: integer('needs_intervention').notNull().default(0),
    /** Sum of completed_at − started_at in microseconds: exact under add and subtract. */
    durationMicrosSum: bigint('duration_micros_sum', { mode: 'number' }).notNull().default(0),
    shard: smallint('shard').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.startedHour, t.finishedHour, t.durationBucket, t.shard] })],
);

/**
 * Signal events (SIGNAL_EVENT_TYPES) by hour of recorded_at, type and task (retries and
 * escalations name one; '' otherwise). `shard` (position % 4) spreads concurrent appenders.
 */
export const signalEventStatsHourly = pgTable(
  'signal_event_stats_hourly',
  {
    hour: ts('hour').notNull(),
    type: text('type').notNull(),
    task: text('task').notNull(),
    shard: smallint('shard').notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.hour, t.type, t.task, t.shard] })],
);

/**
 * The all-time figures of /api/metrics (db/queries/metrics.ts), kept as counters so a scrape
 * reads a few dozen rows whatever the history, and archiving (which deletes hot rows) changes
 * none of them. Named `sagas_started`, `sagas_completed`, `sagas_cancelled`,
 * `duration_bucket:<i>` (finished sagas whose duration is at most DURATION_BUCKETS[i], above
 * the one before; i = DURATION_BUCKETS.length: above them all), `duration_micros` (their
 * durations' sum) and `signal:<type>:<task>` (signal events by type and the task a retry or an
 * escalation names, '' otherwise), and two gauges, `sagas_needing_intervention` and of them
 * `sagas_stalled` (migration 0017_in_flight_gauges_and_indexes). Written by triggers (migration 0013_metric_counters), not
 * by the app: every change appends a row to metric_counter_deltas, which takes no lock that
 * another writer waits for, and compact_metric_counters() (every worker's sweep) folds the
 * deltas into metric_counters. A figure is its metric_counters value plus its deltas.
 */
export const metricCounters = pgTable('metric_counters', {
  name: text('name').primaryKey(),
  value: bigint('value', { mode: 'number' }).notNull(),
});

/** Changes to metric_counters not yet folded in; see there. No index: it is read whole. */
export const metricCounterDeltas = pgTable('metric_counter_deltas', {
  name: text('name').notNull(),
  value: bigint('value', { mode: 'number' }).notNull(),
});

/**
 * Paused tasks (docs/incidents.md): while a task has a row here, a saga that reaches it waits
 * (paused_sagas) instead of running it. Resume deletes the row; the audit log keeps the history.
 */
export const taskPauses = pgTable('task_pauses', {
  task: text('task').primaryKey(),
  reason: text('reason').notNull(),
  pausedBy: text('paused_by').notNull(),
  pausedAt: ts('paused_at').notNull().defaultNow(),
});

/**
 * Sagas waiting at a paused task: the task's job was taken off the queue (no attempt used) and is
 * added again when the task is resumed (jobs/release-paused-sagas.ts). Queue state, like
 * graphile-worker's jobs, not a projection: the saga row and its events are untouched. A row
 * whose task is no longer the saga's current task (it was cancelled meanwhile) means nothing.
 */
export const pausedSagas = pgTable(
  'paused_sagas',
  {
    sagaId: uuid('saga_id').primaryKey(),
    task: text('task').notNull(),
    pausedAt: ts('paused_at').notNull().defaultNow(),
  },
  (t) => [index('paused_sagas_task_paused_at_idx').on(t.task, t.pausedAt, t.sagaId)],
);

/**
 * Alerts (docs/alerts.md): one row per occurrence of a rule's condition, from firing to
 * resolved, kept as history. At most one firing row per rule (the partial unique index), so an
 * alert fires once and stays firing while its condition holds, whoever evaluates.
 */
export const ALERT_STATUSES = ['firing', 'resolved'] as const;
export const alerts = pgTable(
  'alerts',
  {
    alertId: uuid('alert_id').primaryKey(),
    rule: text('rule').notNull(),
    severity: text('severity').notNull(),
    /** What held when it fired, in words; kept as is for the resolution too. */
    summary: text('summary').notNull(),
    status: text('status', { enum: ALERT_STATUSES }).notNull(),
    startedAt: ts('started_at').notNull(),
    resolvedAt: ts('resolved_at'),
  },
  (t) => [
    uniqueIndex('alerts_one_firing_per_rule')
      .on(t.rule)
      .where(sql`${t.status} = 'firing'`),
    index('alerts_started_at_idx').on(t.startedAt.desc()),
    check('alerts_status_valid', inList('status', ALERT_STATUSES)),
    check(
      'alerts_resolved_at_iff_resolved',
      sql`(${t.status} = 'resolved') = (${t.resolvedAt} is not null)`,
    ),
  ],
);

/**
 * The evaluator's one row: which process evaluated last and when. Evaluating takes a
 * transaction-scoped advisory lock and then updates this row only when the last evaluation is
 * at least RXSAGA_ALERT_EVALUATE_SECONDS old, so any number of processes evaluate one at a
 * time and, together, at the configured cadence.
 */
export const alertEvaluator = pgTable(
  'alert_evaluator',
  {
    id: smallint('id').primaryKey(),
    lastEvaluatedAt: ts('last_evaluated_at'),
    evaluatedBy: text('evaluated_by'),
    evaluations: bigint('evaluations', { mode: 'number' }).notNull().default(0),
  },
  (t) => [check('alert_evaluator_single_row', sql`${t.id} = 1`)],
);

/**
 * The webhook outbox: one row per alert change (firing, resolved, or an admin's test) and
 * webhook URL, written in the transaction that changes the alert. `body` is the exact text
 * sent (and signed) on every attempt. A sender claims a row with a lease (lease_until, by the
 * database clock) so two processes never send it at once; `delivery_id` goes with every
 * attempt (X-RxSaga-Delivery) for receivers to drop the rare resend after a crash.
 */
export const ALERT_CHANGES = ['firing', 'resolved', 'test'] as const;
export const alertDeliveries = pgTable(
  'alert_deliveries',
  {
    deliveryId: uuid('delivery_id').primaryKey(),
    /** Null for a test alert, which is no alert of a rule. */
    alertId: uuid('alert_id').references(() => alerts.alertId),
    change: text('change', { enum: ALERT_CHANGES }).notNull(),
    url: text('url').notNull(),
    body: text('body').notNull(),
    status: text('status', { enum: ['pending', 'delivered'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull(),
    leaseUntil: ts('lease_until'),
    leasedBy: text('leased_by'),
    lastAttemptAt: ts('last_attempt_at'),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: ts('created_at').notNull(),
    deliveredAt: ts('delivered_at'),
  },
  (t) => [
    uniqueIndex('alert_deliveries_change_url_key').on(t.alertId, t.change, t.url),
    index('alert_deliveries_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
    index('alert_deliveries_created_at_idx').on(t.createdAt.desc()),
    check('alert_deliveries_change_valid', inList('change', ALERT_CHANGES)),
    check('alert_deliveries_status_valid', inList('status', ['pending', 'delivered'])),
    check(
      'alert_deliveries_test_has_no_alert',
      sql`(${t.change} = 'test') = (${t.alertId} is null)`,
    ),
  ],
);

export const BULK_ACTIONS = ['retry', 'cancel'] as const;
export const BULK_STATUSES = ['running', 'done', 'cancelled'] as const;
export const BULK_OUTCOMES = ['succeeded', 'skipped', 'failed'] as const;

/**
 * Bulk operations (docs/incidents.md): one retry or cancel over a set of sagas fixed when the
 * operation was created (bulk_operation_items), run in batches by a graphile-worker job. The
 * counts are written when it ends; while it runs they are counted from its items.
 */
export const bulkOperations = pgTable(
  'bulk_operations',
  {
    operationId: uuid('operation_id').primaryKey(),
    action: text('action', { enum: BULK_ACTIONS }).notNull(),
    reason: text('reason').notNull(),
    actor: text('actor').notNull(),
    role: text('role').notNull(),
    requestId: text('request_id'),
    filter: jsonb('filter').notNull(),
    status: text('status', { enum: BULK_STATUSES }).notNull(),
    total: integer('total').notNull(),
    succeeded: integer('succeeded'),
    skipped: integer('skipped'),
    failed: integer('failed'),
    createdAt: ts('created_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    index('bulk_operations_created_at_idx').on(t.createdAt.desc(), t.operationId.desc()),
    check('bulk_operations_action_valid', inList('action', BULK_ACTIONS)),
    check('bulk_operations_status_valid', inList('status', BULK_STATUSES)),
  ],
);

/** The sagas of an operation, in the order they are processed; `outcome` null until then. */
export const bulkOperationItems = pgTable(
  'bulk_operation_items',
  {
    operationId: uuid('operation_id')
      .notNull()
      .references(() => bulkOperations.operationId),
    sagaId: uuid('saga_id').notNull(),
    position: integer('position').notNull(),
    outcome: text('outcome', { enum: BULK_OUTCOMES }),
    message: text('message'),
    processedAt: ts('processed_at'),
  },
  (t) => [
    primaryKey({ columns: [t.operationId, t.sagaId] }),
    index('bulk_operation_items_pending_idx')
      .on(t.operationId, t.position)
      .where(sql`${t.outcome} is null`),
    check(
      'bulk_operation_items_outcome_valid',
      sql`${t.outcome} is null or ${inList('outcome', BULK_OUTCOMES)}`,
    ),
  ],
);

/**
 * Finished sagas moved out of the hot tables into archive files (jobs/archive-history.ts): one
 * small row each, so an archived saga stays findable by saga id and order id (the API and the
 * dashboard say which file holds it), and so rebuilding the stats rollups counts it as it did
 * before it was archived (rebuild_saga_stats_rollup() reads these rows beside the hot sagas).
 */
export const archivedSagas = pgTable(
  'archived_sagas',
  {
    sagaId: uuid('saga_id').primaryKey(),
    orderId: text('order_id').notNull(),
    state: text('state', { enum: SAGA_STATES }).notNull(),
    startedAt: ts('started_at').notNull(),
    completedAt: ts('completed_at').notNull(),
    compensated: boolean('compensated').notNull(),
    needsIntervention: boolean('needs_intervention').notNull(),
    events: integer('events').notNull(),
    /** The archive file, relative to RXSAGA_ARCHIVE_DIR. */
    archiveFile: text('archive_file').notNull(),
    archivedAt: ts('archived_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('archived_sagas_order_id_key').on(t.orderId),
    index('archived_sagas_archive_file_idx').on(t.archiveFile),
    index('archived_sagas_started_at_idx').on(t.startedAt),
  ],
);

/**
 * One row per person who signs in (DESIGN "Accounts, roles and sessions"). Usernames are stored
 * lowercased, so `Alice` and `alice` are one account. `passwordHash` is null for accounts that
 * only sign in through single sign-on (`ssoSubject`: `<issuer> <sub>` of the OpenID provider).
 */
export const accounts = pgTable(
  'accounts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    username: text('username').notNull(),
    displayName: text('display_name'),
    role: text('role').$type<Role>().notNull(),
    passwordHash: text('password_hash'),
    ssoSubject: text('sso_subject'),
    disabled: boolean('disabled').notNull().default(false),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastSignInAt: ts('last_sign_in_at'),
  },
  (t) => [
    uniqueIndex('accounts_username_key').on(t.username),
    uniqueIndex('accounts_sso_subject_key').on(t.ssoSubject),
    check('accounts_role_valid', inList('role', ROLES)),
    check('accounts_username_lowercase', sql`${t.username} = lower(${t.username})`),
  ],
);

/**
 * Server-side sessions: the cookie carries a random id, this table only its SHA-256, so a copy
 * of the table signs nobody in. Revoking is deleting the row; expiry (idle and absolute) is
 * decided by lib/auth/session-rules.ts against the database's clock.
 */
export const sessions = pgTable(
  'sessions',
  {
    idHash: text('id_hash').primaryKey(),
    accountId: bigint('account_id', { mode: 'number' })
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
    /**
     * A single sign-on session's ID token, kept only to end the person's session at the provider
     * when they sign out here (its `id_token_hint`); deleted with the row. Null for passwords.
     */
    idToken: text('id_token'),
  },
  (t) => [index('sessions_account_id_idx').on(t.accountId)],
);

/**
 * Named API tokens made by admins: the secret is shown once and stored as its SHA-256 (tokens
 * are 32 random bytes, so a fast hash is enough: there is nothing to guess from). The name is
 * the actor of everything the token does. Revoking deletes the row (the audit log keeps it).
 */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    role: text('role').$type<Role>().notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastUsedAt: ts('last_used_at'),
  },
  (t) => [
    uniqueIndex('api_tokens_name_key').on(t.name),
    uniqueIndex('api_tokens_token_hash_key').on(t.tokenHash),
    check('api_tokens_role_valid', inList('role', ROLES)),
  ],
);

/**
 * Single sign-on attempts between leaving for the OpenID provider and coming back
 * (server/auth/oidc.ts): the browser holds a random id in a short-lived cookie, this table its
 * SHA-256 with the state, nonce and PKCE verifier sent with that browser's request. The row is
 * deleted when the browser comes back (one use), and is good for 10 minutes.
 */
export const oidcSignIns = pgTable(
  'oidc_sign_ins',
  {
    idHash: text('id_hash').primaryKey(),
    state: text('state').notNull(),
    nonce: text('nonce').notNull(),
    codeVerifier: text('code_verifier').notNull(),
    redirectUri: text('redirect_uri').notNull(),
    returnTo: text('return_to').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('oidc_sign_ins_created_at_idx').on(t.createdAt)],
);
