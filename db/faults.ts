import { eq } from 'drizzle-orm';
import { faultSettingSchema, noFaults, type FaultSetting } from '@/lib/domain/fault-injection';
import { TASKS, type Task } from '@/lib/saga/model';
import type { DbOrTx } from './client';
import { faultInjections } from './schema';

export async function getFaultSetting(db: DbOrTx, task: Task): Promise<FaultSetting> {
  const [row] = await db.select().from(faultInjections).where(eq(faultInjections.task, task));
  return row ? { task, failureRate: row.failureRate, transientRate: row.transientRate, latencyMs: row.latencyMs } : noFaults(task);
}

export async function listFaultSettings(db: DbOrTx): Promise<FaultSetting[]> {
  const rows = await db.select().from(faultInjections);
  const byTask = new Map(rows.map((r) => [r.task, r]));
  return TASKS.map((task) => {
    const r = byTask.get(task);
    return r ? { task, failureRate: r.failureRate, transientRate: r.transientRate, latencyMs: r.latencyMs } : noFaults(task);
  });
}

export async function setFaultSetting(db: DbOrTx, input: unknown): Promise<FaultSetting> {
  const setting = faultSettingSchema.parse(input);
  const values = { ...setting, updatedAt: new Date() };
  await db.insert(faultInjections).values(values).onConflictDoUpdate({ target: faultInjections.task, set: values });
  return setting;
}
