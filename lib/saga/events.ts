import { z } from 'zod';
import { COMPENSATION_TASKS, SAGA_STATES, STEP_TASKS, TASKS } from './model';

/**
 * The event catalogue: one zod schema per event type, type strings exactly as DESIGN.md.
 * Payloads carry everything a projection needs, so every read model can be rebuilt from them.
 */
export const orderLineSchema = z.object({
  sku: z.string().min(1).max(64),
  quantity: z.number().int().min(1).max(10_000),
});
export type OrderLine = z.infer<typeof orderLineSchema>;

export const shippingAddressSchema = z.object({
  line1: z.string().trim().min(1).max(200),
  city: z.string().trim().min(1).max(100),
  postalCode: z.string().trim().min(1).max(20),
  country: z.string().trim().min(2).max(56),
});
export type ShippingAddress = z.infer<typeof shippingAddressSchema>;

const MAX_REASON_LENGTH = 2000;
const actor = z.string().min(1).max(200);
const reason = z.string().min(1).max(MAX_REASON_LENGTH);

/** Reasons are composed from other text (an operator's words, an error message): keep them storable. */
export function clipReason(text: string): string {
  return text.length <= MAX_REASON_LENGTH ? text : `${text.slice(0, MAX_REASON_LENGTH - 1)}…`;
}
const stepTask = z.enum(STEP_TASKS);
const compensationTask = z.enum(COMPENSATION_TASKS);
const task = z.enum(TASKS);
const failure = { reason, code: z.string().min(1).max(64) };

export const eventPayloadSchemas = {
  'order.created': z.object({
    orderId: z.string(),
    sagaId: z.uuid(),
    patientId: z.string(),
    prescriberId: z.string().nullable(),
    medications: z.array(orderLineSchema).min(1),
    shippingAddress: shippingAddressSchema,
    idempotencyKey: z.string().nullable(),
    requestHash: z.string().nullable(),
  }),
  'order.prescription_created': z.object({
    orderId: z.string(),
    prescriptionId: z.string(),
    prescriberId: z.string().nullable(),
  }),
  'order.prescription_failed': z.object({ orderId: z.string(), ...failure }),
  'order.inventory_reserved': z.object({
    orderId: z.string(),
    lines: z.array(orderLineSchema).min(1),
  }),
  'order.inventory_reservation_failed': z.object({
    orderId: z.string(),
    ...failure,
    shortages: z.array(
      z.object({ sku: z.string(), requested: z.number().int(), available: z.number().int() }),
    ),
  }),
  'order.shipment_initiated': z.object({
    orderId: z.string(),
    shipmentId: z.string(),
    carrierReference: z.string(),
  }),
  'order.shipment_initiation_failed': z.object({ orderId: z.string(), ...failure }),
  'order.prescription_cancelled': z.object({ orderId: z.string(), prescriptionId: z.string() }),
  'order.inventory_released': z.object({
    orderId: z.string(),
    lines: z.array(orderLineSchema),
  }),
  'order.cancelled': z.object({ orderId: z.string(), reason }),

  'order_fulfillment_saga.started': z.object({
    sagaId: z.uuid(),
    orderId: z.string(),
    patientId: z.string(),
  }),
  'order_fulfillment_saga.state_changed': z.object({
    from: z.enum(SAGA_STATES),
    to: z.enum(SAGA_STATES),
    trigger: z.string(),
  }),
  'order_fulfillment_saga.compensation_recorded': z.object({
    task: compensationTask,
    compensates: z.string(),
  }),
  'order_fulfillment_saga.failed': z.object({ failedStep: stepTask, reason }),
  'order_fulfillment_saga.completed': z.object({ orderId: z.string() }),
  'order_fulfillment_saga.retry_requested': z.object({ task, actor, reason }),
  'order_fulfillment_saga.cancel_requested': z.object({
    actor,
    reason,
    fromState: z.enum(SAGA_STATES),
  }),
  /** A transient error: the task is tried again at `retryAt`. */
  'order_fulfillment_saga.attempt_failed': z.object({
    task,
    attempt: z.number().int().min(1),
    maxAttempts: z.number().int().min(1),
    error: z.string(),
    retryAt: z.string(),
  }),
  /** A human must act: retries ran out, a compensation cannot finish, or the saga stalled. */
  'order_fulfillment_saga.intervention_required': z.object({
    task: task.nullable(),
    reason,
    attempts: z.number().int().min(0),
  }),
} as const;

export type EventType = keyof typeof eventPayloadSchemas;
export const EVENT_TYPES = Object.keys(eventPayloadSchemas) as EventType[];
export type EventPayload<T extends EventType> = z.infer<(typeof eventPayloadSchemas)[T]>;

export const eventMetadataSchema = z.object({
  correlationId: z.string(),
  causationId: z.string().nullable().optional(),
  idempotencyKey: z.string().nullable().optional(),
  actor: z.string().nullable().optional(),
  /** The bulk operation that retried or cancelled the saga (docs/incidents.md). */
  operationId: z.string().optional(),
});
export type EventMetadata = z.infer<typeof eventMetadataSchema>;

export type StreamKind = 'order' | 'saga';
export const orderStreamId = (orderId: string) => `order-${orderId}`;
export const sagaStreamId = (sagaId: string) => `order_fulfillment_saga-${sagaId}`;

/**
 * The partition key of a saga's events: the first day (UTC) of the month it started, as
 * `YYYY-MM-01` (SQL's `saga_month(started_at)`, migration 0011_events_partitioned).
 */
export const sagaMonthOf = (startedAt: Date): string => `${startedAt.toISOString().slice(0, 7)}-01`;

export function streamKindOf(type: EventType): StreamKind {
  return type.startsWith('order_fulfillment_saga.') ? 'saga' : 'order';
}

/** An event a decision wants appended; the event store gives it a stream version and position. */
export type NewEvent = {
  [T in EventType]: { type: T; payload: EventPayload<T>; idempotencyKey?: string | null };
}[EventType];

/** An event as stored. */
export type StoredEvent = {
  [T in EventType]: {
    position: number;
    streamId: string;
    version: number;
    type: T;
    payload: EventPayload<T>;
    metadata: EventMetadata;
    recordedAt: Date;
  };
}[EventType];

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventPayloadSchemas, type);
}

/** Validates a payload against its type's schema; throws a ZodError on a mismatch. */
export function parseEventPayload<T extends EventType>(type: T, payload: unknown): EventPayload<T> {
  return eventPayloadSchemas[type].parse(payload) as EventPayload<T>;
}
