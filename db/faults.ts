import { sql } from 'drizzle-orm';
import { faultSettingSchema, noFaults, type FaultSetting } from '@/lib/domain/fault-injection';
import { TASKS } from '@/lib/saga/model';
import type { DbOrTx } from './client';
import { faultInjections } from './schema';

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
