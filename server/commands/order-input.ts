import { createHash } from 'node:crypto';
import { z } from 'zod';
import { orderLineSchema, shippingAddressSchema } from '@/lib/saga/events';

export const MAX_ORDER_LINES = 50;

const identifier = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'use letters, digits, dot, dash, colon or underscore');

/** The one schema for a new order: the API, the order form and tests all parse with it. */
export const createOrderInputSchema = z.object({
  orderId: identifier.optional(),
  patientId: identifier,
  prescriberId: identifier.optional(),
  medications: z
    .array(orderLineSchema)
    .min(1, 'add at least one medication')
    .max(MAX_ORDER_LINES, `at most ${MAX_ORDER_LINES} lines per order`),
  shippingAddress: shippingAddressSchema,
});
export type CreateOrderInput = z.infer<typeof createOrderInputSchema>;

/** Key order in the body must not matter to idempotency: hash a canonical form. */
export function requestHash(input: CreateOrderInput): string {
  const canonical = JSON.stringify(sortKeys(input));
  return createHash('sha256').update(canonical).digest('hex');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}
