import { randomUUID } from 'node:crypto';
import { drizzle } from 'drizzle-orm/postgres-js';
import type postgres from 'postgres';
import type { Database } from '@/db/client';
import * as schema from '@/db/schema';
import { applyDecision, loadTaskStatement, pipeline, readTaskInput } from '@/db/saga-store';
import { isStepFailure, sagaStarted, stepSucceeded } from '@/lib/saga/decide';
import { jobKey, STEP_TASKS, type StepTask } from '@/lib/saga/model';
import { STEP_WORK } from '@/jobs/run-saga-task';
import { requestHash } from '@/server/commands/order-input';
import type { BenchOrder } from './orders';

/**
 * The floor: the same four steps as a saga in RxSaga, with the engine's own statements (the
 * create's apply; per step the load with the task's read, then the apply), one plain
 * transaction per step, no queue in between: no job rows, no graphile-worker, no hand-over
 * between workers. `concurrency` sagas are in flight; each runs its steps back to back. Like
 * with like: the ratio to it is what the queue and the delivery cost, not a difference in
 * what is written (the same events, NOTIFY, projections and saga row).
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
  const db = drizzle(sql, { schema });
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= orders.length) return;
      const t0 = performance.now();
      await runOne(db, orders[i]!);
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

/**
 * One step of a floor saga in one transaction, with the engine's own statements: the load (the
 * saga lock, the order, the fault setting, the clock; its job take finds nothing) pipelined with
 * the task's read, the task's pure decision, and the apply with no next job.
 */
async function floorStep(db: Database, sagaId: string, task: StepTask): Promise<void> {
  const work = STEP_WORK[task];
  await db.transaction(async (tx) => {
    const [rows, read] = await pipeline(
      loadTaskStatement(tx, sagaId, task, { kind: 'inline' }),
      work.read?.(tx, sagaId) ?? Promise.resolve(undefined),
    );
    const { stored, order, now } = readTaskInput(rows, task, { kind: 'inline' });
    if (!stored || !order || !now) throw new Error(`floor saga ${sagaId} is not there`);
    const ctx = { saga: stored.saga, order, attempt: 1, idempotencyKey: jobKey(sagaId, task) };
    const outcome = work.decide(ctx, read);
    if (isStepFailure(outcome)) throw new Error(`floor saga ${sagaId}: ${task} failed`);
    const decision = stepSucceeded(stored.saga, task, outcome);
    await applyDecision(tx, stored, { ...decision, enqueue: null }, FLOOR_CAUSE, { now });
  });
}

const FLOOR_CAUSE = { causationId: 'bench-floor' };

async function runOne(db: Database, order: BenchOrder): Promise<void> {
  const sagaId = randomUUID();
  const input = order.input;
  const orderId = `${input.orderId!}-floor`;
  // 1. create: the order, its events, the saga row (createOrder's apply, without its job).
  await db.transaction(async (tx) => {
    const started = sagaStarted({
      orderId,
      sagaId,
      patientId: input.patientId,
      prescriberId: input.prescriberId ?? null,
      medications: input.medications,
      shippingAddress: input.shippingAddress,
      idempotencyKey: null,
      requestHash: requestHash(input),
    });
    await applyDecision(tx, { sagaId, orderId }, { ...started, enqueue: null }, FLOOR_CAUSE);
  });
  // 2-4. the steps, back to back.
  for (const task of STEP_TASKS) await floorStep(db, sagaId, task);
}
