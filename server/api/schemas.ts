import { z } from 'zod';
import type { AlertView, DeliveryView } from '@/db/alerts';
import type { BulkOperationPage, BulkOperationView } from '@/db/bulk-operations';
import type { AuditView } from '@/db/queries/audit';
import type { InterventionQueue } from '@/db/queries/interventions';
import type { SagaDetail, SagaPage, SagaView } from '@/db/queries/sagas';
import type { Stats } from '@/db/queries/stats';
import type { CatalogItem, InventoryItem } from '@/db/queries/stock';
import type { PauseView, TaskControlView } from '@/db/queries/task-controls';
import type { AccountView } from '@/db/accounts';
import type { ApiTokenView } from '@/db/api-tokens';
import { ROLES } from '@/lib/auth/roles';
import type { OperatorActionResult } from '@/server/commands/operator-action';
import type { StockLevel } from '@/server/commands/set-on-hand';
import type { TaskPauseResult } from '@/server/commands/task-pause';
import { BULK_STATUSES } from '@/db/schema';
import { ALERT_RULES } from '@/lib/alerts/rules';
import type { BulkOperationAnswer } from '@/server/commands/bulk-operation';
import { bulkFilterSchema } from '@/lib/incidents/bulk-operation-input';
import type { FailureGroup } from '@/lib/incidents/failure-groups';
import { faultSettingSchema } from '@/lib/domain/fault-injection';
import { FAILURE_KINDS } from '@/db/queries/signal-events';
import { COMPENSATION_TASKS, SAGA_STATES, TASKS } from '@/lib/saga/model';

/**
 * The API's response bodies as zod schemas: the OpenAPI document (server/api/openapi.ts) is
 * generated from them, and `app/api/openapi.int.test.ts` checks every route's real answers
 * against that document. Each schema is tied to the TypeScript type the handler returns by
 * `sameShape` below, so changing a row shape without changing its schema fails `tsc`.
 */

const isoTime = z.iso.datetime({ offset: true });
const count = z.number().int().min(0);

export const errorSchema = z
  .object({
    error: z.string(),
    issues: z
      .array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() }))
      .optional(),
    /** 410 only: where an archived saga went (`npm run restore` brings it back). */
    archived: z
      .object({
        sagaId: z.string(),
        orderId: z.string(),
        state: z.string(),
        startedAt: isoTime,
        completedAt: isoTime,
        archiveFile: z.string(),
        archivedAt: isoTime,
      })
      .optional(),
  })
  .meta({ id: 'Error', description: 'A refusal: what was wrong, and per field where it applies.' });

export const internalErrorSchema = z
  .object({ error: z.literal('internal error'), requestId: z.string() })
  .meta({ id: 'InternalError', description: 'A bug: the same requestId is in the server log.' });

const sagaStateSchema = z.enum(SAGA_STATES).meta({ id: 'SagaState' });

export const sagaSchema = z
  .object({
    sagaId: z.uuid(),
    orderId: z.string(),
    /** Masked for viewers (`PAT-****01`). */
    patientId: z.string(),
    state: sagaStateSchema,
    needsIntervention: z.boolean(),
    interventionReason: z.string().nullable(),
    startedAt: isoTime,
    completedAt: isoTime.nullable(),
    durationSeconds: z.number().min(0).nullable(),
    currentTask: z.string().nullable(),
    failedStep: z.string().nullable(),
    failureReason: z.string().nullable(),
    compensationsDone: z.array(z.string()),
    attempts: count,
    lastError: z.string().nullable(),
    updatedAt: isoTime,
    /** Since when the saga waits at its current task because that task is paused. */
    pausedAt: isoTime.nullable(),
  })
  .meta({ id: 'Saga' });

const sagaEventSchema = z
  .object({
    position: z.number().int().min(1),
    streamId: z.string(),
    version: z.number().int().min(1),
    type: z.string(),
    payload: z.unknown(),
    metadata: z.unknown(),
    recordedAt: isoTime,
  })
  .meta({ id: 'SagaEvent' });

export const sagaDetailSchema = sagaSchema.extend({ events: z.array(sagaEventSchema) }).meta({
  id: 'SagaDetail',
  description: 'A saga with its timeline: saga and order streams, in order.',
});

export const sagaPageSchema = z
  .object({ items: z.array(sagaSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'SagaPage' });

export const interventionQueueSchema = z
  .object({
    items: z.array(sagaSchema.extend({ interventionSince: isoTime.nullable() })),
    total: count,
  })
  .meta({ id: 'InterventionQueue' });

export const operatorActionResultSchema = z
  .object({ sagaId: z.uuid(), state: sagaStateSchema, needsIntervention: z.boolean() })
  .meta({ id: 'OperatorActionResult' });

export const orderCreatedSchema = z
  .object({ orderId: z.string(), sagaId: z.uuid(), state: sagaStateSchema })
  .meta({ id: 'OrderCreated' });

const nullableRatio = z.number().min(0).max(1).nullable();
const nullableSeconds = z.number().min(0).nullable();

export const statsSchema = z
  .object({
    window: z.enum(['1h', '24h', '7d', 'all']),
    since: isoTime.nullable(),
    total: count,
    inFlight: count,
    needsIntervention: count,
    successRate: nullableRatio,
    avgDurationSeconds: nullableSeconds,
    p50DurationSeconds: nullableSeconds,
    p95DurationSeconds: nullableSeconds,
    compensationFrequency: nullableRatio,
    countsByState: z.object(
      Object.fromEntries(SAGA_STATES.map((state) => [state, count])) as Record<
        (typeof SAGA_STATES)[number],
        typeof count
      >,
    ),
    compensationsByTask: z.array(z.object({ task: z.enum(COMPENSATION_TASKS), count })),
    failuresByTask: z.array(
      z.object({
        task: z.enum(TASKS),
        ...(Object.fromEntries(FAILURE_KINDS.map((k) => [k, count])) as Record<
          (typeof FAILURE_KINDS)[number],
          typeof count
        >),
      }),
    ),
    bucketSeconds: z.number().int().min(1),
    series: z.array(
      z.object({
        start: isoTime,
        started: count,
        completed: count,
        cancelled: count,
        compensations: count,
        p50DurationSeconds: nullableSeconds,
        p95DurationSeconds: nullableSeconds,
      }),
    ),
  })
  .meta({ id: 'Stats' });

const catalogItemSchema = z
  .object({
    sku: z.string(),
    name: z.string(),
    requiresPrescription: z.boolean(),
    maxQuantityPerOrder: z.number().int().min(1),
  })
  .meta({ id: 'CatalogItem' });

const inventoryItemSchema = z
  .object({
    sku: z.string(),
    name: z.string(),
    onHand: count,
    reserved: count,
    available: z.number().int(),
  })
  .meta({ id: 'InventoryItem' });

export const stockLevelSchema = z
  .object({ sku: z.string(), onHand: count, reserved: count, available: z.number().int() })
  .meta({ id: 'StockLevel' });

export const faultSettingsSchema = z
  .object({ items: z.array(faultSettingSchema) })
  .meta({ id: 'FaultSettings' });

const auditEntrySchema = z
  .object({
    id: z.number().int().min(1),
    at: isoTime,
    actor: z.string(),
    role: z.string(),
    action: z.string(),
    target: z.string().nullable(),
    reason: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    requestId: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry' });

export const auditPageSchema = z
  .object({ items: z.array(auditEntrySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'AuditPage' });

export const principalSchema = z
  .object({
    username: z
      .string()
      .describe('The account username, or the API token name (`api` for RXSAGA_API_TOKEN).'),
    role: z.enum(ROLES),
    via: z.enum(['session', 'token']),
  })
  .meta({ id: 'Principal', description: 'Who is signed in, and how.' });

export const signedInSchema = z
  .object({ username: z.string(), role: z.enum(ROLES) })
  .meta({ id: 'SignedIn', description: 'The account just signed in.' });

export const accountSchema = z
  .object({
    username: z.string(),
    displayName: z.string().nullable(),
    role: z.enum(ROLES),
    disabled: z.boolean(),
    createdAt: z.string(),
    lastSignInAt: z.string().nullable(),
    sso: z.boolean(),
    activeSessions: z.number().int(),
  })
  .meta({ id: 'Account', description: 'A person who signs in (never a password or its hash).' });

const apiTokenSchema = z
  .object({
    name: z.string(),
    role: z.enum(ROLES),
    createdBy: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiToken', description: 'A named API token (never its secret).' });

export const apiTokenCreatedSchema = apiTokenSchema
  .extend({
    token: z.string().describe('The secret, shown this once: `Authorization: Bearer <token>`.'),
  })
  .meta({ id: 'ApiTokenCreated' });

const pauseSchema = z
  .object({ task: z.enum(TASKS), reason: z.string(), pausedBy: z.string(), pausedAt: isoTime })
  .meta({ id: 'Pause' });

const taskControlSchema = z
  .object({ task: z.enum(TASKS), pause: pauseSchema.nullable(), waiting: count })
  .meta({ id: 'TaskControl', description: 'A task, its pause, and the sagas held at it.' });

export const taskPauseResultSchema = z
  .object({ task: z.enum(TASKS), paused: z.boolean() })
  .meta({ id: 'TaskPauseResult' });

const alertSchema = z
  .object({
    alertId: z.string(),
    rule: z.string().describe(`One of ${ALERT_RULES.join(', ')}.`),
    status: z.enum(['firing', 'resolved']),
    summary: z.string(),
    startedAt: isoTime,
    resolvedAt: isoTime.nullable(),
  })
  .meta({ id: 'Alert' });

const alertDeliverySchema = z
  .object({
    deliveryId: z.string().describe('Sent as X-RxSaga-Delivery on every attempt.'),
    alertId: z.string().nullable().describe('Null for a test alert.'),
    rule: z.string(),
    change: z.enum(['firing', 'resolved', 'test']),
    target: z.string().describe("The webhook URL's origin only (URLs often carry a token)."),
    status: z.enum(['pending', 'failing', 'delivered']),
    attempts: z.number().int(),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: isoTime.nullable(),
    createdAt: isoTime,
    deliveredAt: isoTime.nullable(),
  })
  .meta({ id: 'AlertDelivery' });

export const testAlertQueuedSchema = z
  .object({ deliveries: z.number().int() })
  .meta({ id: 'TestAlertQueued' });

export const alertDeliveryRetriedSchema = z
  .object({ deliveryId: z.string() })
  .meta({ id: 'AlertDeliveryRetried' });

const failureGroupSchema = z
  .object({
    groupId: z.string(),
    task: z.string().nullable(),
    kind: z.enum(['retries-exhausted', 'stalled', 'failed', 'other']),
    error: z.string().describe('The normalised error every saga of the group shares.'),
    count: count,
    firstSeenAt: isoTime.nullable(),
    lastSeenAt: isoTime.nullable(),
    sample: z.object({ sagaId: z.uuid(), orderId: z.string(), reason: z.string().nullable() }),
  })
  .meta({ id: 'FailureGroup' });

export const bulkOperationSchema = z
  .object({
    operationId: z.uuid(),
    action: z.enum(['retry', 'cancel']),
    reason: z.string(),
    actor: z.string(),
    filter: bulkFilterSchema,
    status: z.enum(BULK_STATUSES),
    total: count,
    succeeded: count,
    skipped: count,
    failed: count,
    createdAt: isoTime,
    finishedAt: isoTime.nullable(),
  })
  .meta({ id: 'BulkOperation' });

export const bulkOperationPageSchema = z
  .object({ items: z.array(bulkOperationSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'BulkOperationPage' });

export const bulkDryRunSchema = z
  .object({ matched: count, sample: z.array(z.uuid()) })
  .meta({ id: 'BulkDryRun', description: 'What the filter matches now; nothing changed.' });

export const bulkStartedSchema = z
  .object({ operationId: z.uuid(), matched: count })
  .meta({ id: 'BulkStarted' });

export const healthSchema = z.object({ ok: z.literal(true) }).meta({ id: 'Health' });
export const unhealthySchema = z
  .object({ ok: z.literal(false), error: z.string() })
  .meta({ id: 'Unhealthy' });

const listOf = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ items: z.array(item) }).meta({ id });

export const catalogSchema = listOf(catalogItemSchema, 'Catalog');
export const inventorySchema = listOf(inventoryItemSchema, 'Inventory');
export const failureGroupsSchema = listOf(failureGroupSchema, 'FailureGroups');
export const alertsSchema = listOf(alertSchema, 'Alerts');
export const alertDeliveriesSchema = listOf(alertDeliverySchema, 'AlertDeliveries');
export const pausesSchema = listOf(pauseSchema, 'Pauses');
export const accountsSchema = listOf(accountSchema, 'Accounts');
export const apiTokensSchema = listOf(apiTokenSchema, 'ApiTokens');
export const taskControlsSchema = listOf(taskControlSchema, 'TaskControls');

/*
 * Compile-time ties between each schema and the type its handler returns: both directions must
 * be assignable, so a field added, dropped or retyped on one side only fails `npm run typecheck`.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function sameShape<S extends z.ZodType, T>(_: Same<z.output<S>, T>): void {}
sameShape<typeof sagaSchema, SagaView>(true);
sameShape<typeof sagaDetailSchema, SagaDetail>(true);
sameShape<typeof sagaPageSchema, SagaPage>(true);
sameShape<typeof interventionQueueSchema, InterventionQueue>(true);
sameShape<typeof operatorActionResultSchema, OperatorActionResult>(true);
sameShape<typeof statsSchema, Stats>(true);
sameShape<typeof catalogItemSchema, CatalogItem>(true);
sameShape<typeof inventoryItemSchema, InventoryItem>(true);
sameShape<typeof stockLevelSchema, StockLevel>(true);
sameShape<typeof auditEntrySchema, AuditView>(true);
sameShape<typeof accountSchema, AccountView>(true);
sameShape<typeof apiTokenSchema, ApiTokenView>(true);
sameShape<typeof pauseSchema, PauseView>(true);
sameShape<typeof taskControlSchema, TaskControlView>(true);
sameShape<typeof taskPauseResultSchema, TaskPauseResult>(true);
sameShape<typeof alertSchema, Omit<AlertView, 'severity'>>(true);
sameShape<typeof alertDeliverySchema, DeliveryView>(true);
sameShape<typeof failureGroupSchema, FailureGroup>(true);
sameShape<typeof bulkOperationSchema, BulkOperationView>(true);
sameShape<typeof bulkOperationPageSchema, BulkOperationPage>(true);
sameShape<typeof bulkDryRunSchema, Omit<Extract<BulkOperationAnswer, { dryRun: true }>, 'dryRun'>>(
  true,
);
sameShape<
  typeof bulkStartedSchema,
  Omit<Extract<BulkOperationAnswer, { dryRun: false }>, 'dryRun'>
>(true);
