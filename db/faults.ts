import { sql } from 'drizzle-orm';
import { faultSettingSchema, noFaults, type FaultSetting } from '@/lib/domain/fault-injection';
import { TASKS, type Task } from '@/lib/saga/model';
import type { DbOrTx } from './client';
import { rawSql } from './raw';
import { faultInjections } from './schema';

/** Read by every task (a prepared statement, see db/raw.ts). */
export async function getFaultSetting(db: DbOrTx, task: Task): Promise<FaultSetting> {
  const [row] = await rawSql(db)<
    { failure_rate: number; transient_rate: number; latency_ms: number }[]
  >`
    select failure_rate, transient_rate, latency_ms from fault_injections where task = ${task}`;
  return row
    ? {
        task,
        failureRate: row.failure_rate,
        transientRate: row.transient_rate,
        latencyMs: row.latency_ms,
      }
    : noFaults(task);
}

export async function listFaultSettings(db: DbOrTx): Promise<FaultSetting[]> {
  const rows = await db.select().from(faultInjections);
  const byTask = new Map(rows.map((r) => [r.task, r]));
  return TASKS.map((task) => {
    const r = byTask.get(task);
    return r
      ? { task, failureRate: r.failureRate, transientRate: r.transientRate, latencyMs: r.latencyMs }
      : noFaults(task);
  });
}

export async function setFaultSetting(db: DbOrTx, input: unknown): Promise<FaultSetting> {
  const setting = faultSettingSchema.parse(input);
  // Stamped by the database's clock (db/clock.ts), not this process's.
  const values = { ...setting, updatedAt: sql`now()` };
  await db
    .insert(faultInjections)
    .values(values)
    .onConflictDoUpdate({ target: faultInjections.task, set: values });
  return setting;
}
