import { spawn, type ChildProcess } from 'node:child_process';
import { after, before } from 'node:test';
import { asc, eq, sql } from 'drizzle-orm';
import { closeDb, getDb, type Database } from '@/db/client';
import { events, inventoryItems, orderFulfillmentSagas } from '@/db/schema';
import { seedDemoCatalog } from '@/db/seed';
import { resetEnvForTests } from '@/lib/env';
import { logger } from '@/server/logger';
import { startWorker, type WorkerHandle } from '@/jobs/worker';
import type { CreateOrderInput } from '@/server/commands/order-input';
import { jobKey, type Task } from '@/lib/saga/model';
import { createTestDatabase } from './db';

/**
 * Integration tests run against a real PostgreSQL database (cloned from a migrated template)
 * and a real graphile-worker. Each test file gets its own database.
 */
export interface SagaTestContext {
  db: Database;
  url: string;
}

export function useSagaTestDatabase(env: Record<string, string> = {}): SagaTestContext {
  const ctx = {} as SagaTestContext;
  let drop: (() => Promise<void>) | undefined;
  before(async () => {
    const created = await createTestDatabase();
    drop = created.drop;
    Object.assign(process.env, {
      DATABASE_URL: created.url,
      RXSAGA_RETRY_BASE_MS: '50',
      RXSAGA_HEARTBEAT_SECONDS: '1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      ...env,
    });
    resetEnvForTests();
    logger.level = process.env.LOG_LEVEL ?? 'silent';
    ctx.url = created.url;
    ctx.db = getDb();
    await seedDemoCatalog(ctx.db);
  });
  after(async () => {
    await closeDb();
    await drop?.();
  });
  return ctx;
}

export function orderInput(overrides: Partial<CreateOrderInput> = {}): CreateOrderInput {
  return {
    patientId: 'PAT-1001',
    prescriberId: 'PR-2001',
    medications: [{ sku: 'AMOX-500', quantity: 2 }],
    shippingAddress: {
      line1: '1 Canal Street',
      city: 'Amsterdam',
      postalCode: '1011AB',
      country: 'NL',
    },
    ...overrides,
  };
}

export const withPostalCode = (postalCode: string, overrides: Partial<CreateOrderInput> = {}) => {
  const base = orderInput(overrides);
  return { ...base, shippingAddress: { ...base.shippingAddress, postalCode } };
};

/** Polls until `check` returns true; fails with `describe()` after the timeout. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Waits until every saga is finished or flagged for a human. */
export async function waitForSettled(db: Database, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const [row] = await db.execute<{ n: number }>(sql`
        select count(*)::int as n from order_fulfillment_sagas
        where not saga_state_is_terminal(state) and not needs_intervention`);
      return row?.n === 0;
    },
    timeoutMs,
    'all sagas to settle',
  );
}

export async function getSagaRow(db: Database, sagaId: string) {
  const [row] = await db
    .select()
    .from(orderFulfillmentSagas)
    .where(eq(orderFulfillmentSagas.sagaId, sagaId));
  if (!row) throw new Error(`no saga ${sagaId}`);
  return row;
}

/** The saga's timeline as event types, both streams, in order. */
export async function eventTypes(db: Database, sagaId: string): Promise<string[]> {
  const rows = await db
    .select({ type: events.type })
    .from(events)
    .where(sql`${events.metadata}->>'correlationId' = ${sagaId}`)
    .orderBy(asc(events.position));
  return rows.map((r) => r.type);
}

export async function jobCount(db: Database): Promise<number> {
  const [row] = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from graphile_worker.jobs`,
  );
  return row?.n ?? 0;
}

/** Streams whose versions are not exactly 1..n. */
export async function streamsWithGaps(db: Database): Promise<string[]> {
  const rows = await db.execute<{ stream_id: string }>(sql`
    select stream_id from events group by stream_id
    having min(version) <> 1 or max(version) <> count(*) or count(distinct version) <> count(*)`);
  return rows.map((r) => r.stream_id);
}

export async function setStock(db: Database, sku: string, onHand: number): Promise<void> {
  await db.update(inventoryItems).set({ onHand }).where(eq(inventoryItems.sku, sku));
}

/** Every SKU where `reserved` differs from the sum of its active reservations. */
export async function reservationMismatches(db: Database): Promise<string[]> {
  const rows = await db.execute<{ sku: string }>(sql`
    select i.sku from inventory_items i
    left join inventory_reservations r on r.sku = i.sku and r.status = 'active'
    group by i.sku, i.reserved
    having i.reserved <> coalesce(sum(r.quantity), 0)`);
  return rows.map((r) => r.sku);
}

export async function withWorker<T>(fn: () => Promise<T>): Promise<T> {
  const worker: WorkerHandle = await startWorker();
  try {
    return await fn();
  } finally {
    await worker.stop();
  }
}

/** A worker in its own process, as `npm run worker` runs it, so a test can SIGKILL it. */
export function spawnWorkerProcess(url: string, env: Record<string, string> = {}): ChildProcess {
  return spawn('node', ['--import', 'tsx', 'jobs/worker.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      WORKER_CONCURRENCY: '4',
      RXSAGA_HEARTBEAT_SECONDS: '1',
      RXSAGA_WORKER_DEAD_SECONDS: '3',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** What graphile-worker does when it hands a job to a worker: lock it. Returns the job id. */
export async function deliverJob(db: Database, sagaId: string, task: Task): Promise<string> {
  const [row] = await db.execute<{ id: string }>(sql`
    update graphile_worker._private_jobs set locked_at = now(), locked_by = 'test-worker', attempts = attempts + 1
    where key = ${jobKey(sagaId, task)} and locked_at is null returning id::text`);
  if (!row) throw new Error(`no queued ${task} job of saga ${sagaId} to deliver`);
  return row.id;
}
