import { randomUUID } from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '@/db/client';
import { databaseNow } from '@/db/clock';
import { applyDecision } from '@/db/saga-store';
import { medications, orderFulfillmentSagas, orders } from '@/db/schema';
import { getEnv } from '@/lib/env';
import {
  AppError,
  ClientGone,
  conflict,
  invalidInput,
  ruleViolation,
  ServerBusy,
} from '@/lib/errors';
import { logger } from '@/server/logger';
import { sagaStarted } from '@/lib/saga/decide';
import type { SagaState } from '@/lib/saga/model';
import { createOrderInputSchema, requestHash } from './order-input';

export interface CreateOrderOptions {
  /** The `Idempotency-Key` header: the same key and body return the first result. */
  idempotencyKey?: string | null;
  actor?: string | null;
  requestId?: string | null;
  /**
   * The request's abort signal: once its client has gone, nothing is stored for it (checked
   * before the transaction, after waiting for the key, and before the first write).
   */
  signal?: AbortSignal;
  /** How long to wait for an earlier request with the same key (default RXSAGA_DB_WAIT_MS). */
  keyWaitMs?: number;
}

export interface CreateOrderResult {
  orderId: string;
  sagaId: string;
  state: SagaState;
  /** True when an earlier request with the same idempotency key created this order. */
  replayed: boolean;
}

const UNIQUE_VIOLATION = '23505';
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * The one entry point for a new order. In one transaction: store the order (its event), start
 * the saga, project both and enqueue the first step. Bad input throws before anything is written.
 */
export async function createOrder(
  db: Database,
  body: unknown,
  options: CreateOrderOptions = {},
): Promise<CreateOrderResult> {
  const parsed = createOrderInputSchema.safeParse(body);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid order');
  const input = parsed.data;
  const idempotencyKey = options.idempotencyKey?.trim() || null;
  if (idempotencyKey && idempotencyKey.length > 255) {
    throw new AppError('invalid_input', 'Idempotency-Key is longer than 255 characters');
  }
  const hash = requestHash(input);
  const { signal } = options;
  const stopIfGone = () => {
    if (signal?.aborted) throw new ClientGone();
  };
  stopIfGone();

  try {
    return await db.transaction(async (tx) => {
      if (idempotencyKey) {
        // Concurrent requests with one key queue here; the first creates, the rest replay it.
        // The wait is bounded: a client retrying while its first request is still stuck must
        // not pile up connections behind it (each waiter holds one).
        const lockKey = sql`hashtextextended(${idempotencyKey}, 0)`;
        const [free] = await tx.execute<{ locked: boolean }>(
          sql`select pg_try_advisory_xact_lock(${lockKey}) as locked`,
        );
        if (!free?.locked) {
          const waitMs = options.keyWaitMs ?? getEnv().RXSAGA_DB_WAIT_MS;
          await tx.execute(sql`select set_config('lock_timeout', ${`${waitMs}ms`}, true)`);
          await tx.execute(sql`select pg_advisory_xact_lock(${lockKey})`);
          await tx.execute(sql`select set_config('lock_timeout', '0', true)`);
          stopIfGone();
        }
        const [existing] = await tx
          .select({
            orderId: orders.orderId,
            sagaId: orders.sagaId,
            hash: orders.requestHash,
            state: orderFulfillmentSagas.state,
          })
          .from(orders)
          .innerJoin(orderFulfillmentSagas, eq(orderFulfillmentSagas.sagaId, orders.sagaId))
          .where(eq(orders.idempotencyKey, idempotencyKey));
        if (existing) {
          if (existing.hash !== hash)
            throw conflict('Idempotency-Key was already used with a different request body');
          return {
            orderId: existing.orderId,
            sagaId: existing.sagaId,
            state: existing.state,
            replayed: true,
          };
        }
      }

      const skus = [...new Set(input.medications.map((m) => m.sku))];
      // The clock with the catalog (one round trip): the apply stamps the events with it.
      const [known, now] = await Promise.all([
        tx.select({ sku: medications.sku }).from(medications).where(inArray(medications.sku, skus)),
        databaseNow(tx),
      ]);
      const knownSkus = new Set(known.map((k) => k.sku));
      const unknown = input.medications.flatMap((m, i) =>
        knownSkus.has(m.sku)
          ? []
          : [{ path: ['medications', i, 'sku'], message: `unknown medication ${m.sku}` }],
      );
      if (unknown.length > 0)
        throw ruleViolation('order names medications that are not in the catalog', unknown);

      stopIfGone();
      const orderId = input.orderId ?? `ORD-${randomUUID()}`;
      const sagaId = randomUUID();
      const { saga } = await applyDecision(
        tx,
        { sagaId, orderId },
        sagaStarted({
          orderId,
          sagaId,
          patientId: input.patientId,
          prescriberId: input.prescriberId ?? null,
          medications: input.medications,
          shippingAddress: input.shippingAddress,
          idempotencyKey,
          requestHash: hash,
        }),
        { causationId: options.requestId ?? null, idempotencyKey, actor: options.actor ?? null },
        { now },
      );
      logger.info({ sagaId, orderId, state: saga.state, event: 'saga.started' }, 'saga started');
      return { orderId, sagaId, state: saga.state, replayed: false };
    });
  } catch (error) {
    if (input.orderId && hasCode(error, UNIQUE_VIOLATION))
      throw conflict(`order ${input.orderId} already exists`);
    if (hasCode(error, LOCK_NOT_AVAILABLE))
      throw new ServerBusy(
        'a request with this Idempotency-Key is still in progress; nothing was stored; try again later',
      );
    throw error;
  }
}

function hasCode(error: unknown, code: string): boolean {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: string }).code === code) return true;
  }
  return false;
}
