import { z } from 'zod';
import type { Database } from '@/db/client';
import { recordAudit, type AuditActor } from '@/db/audit';
import { listFaultSettings, setFaultSetting } from '@/db/faults';
import { faultSettingSchema, type FaultSetting } from '@/lib/domain/fault-injection';
import { invalidInput } from '@/lib/errors';

/** Each task's rates are shares of its runs: failure + transient cannot exceed all of them. */
const checkedSettingSchema = faultSettingSchema.refine(
  (s) => s.failureRate + s.transientRate <= 1,
  {
    message: 'failureRate + transientRate must not exceed 1',
    path: ['transientRate'],
  },
);

export const setFaultSettingsInputSchema = z.object({
  items: z
    .array(checkedSettingSchema)
    .min(1)
    .refine(
      (items) => new Set(items.map((i) => i.task)).size === items.length,
      'each task at most once',
    ),
  reason: z.string().trim().max(2000).optional(),
});

/** Sets the drill faults of the tasks named (others keep theirs) and returns every task's setting. */
export async function setFaultSettings(
  db: Database,
  body: unknown,
  by: AuditActor,
): Promise<FaultSetting[]> {
  const parsed = setFaultSettingsInputSchema.safeParse(body);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid fault settings');
  const changed = new Set(parsed.data.items.map((i) => i.task));
  return db.transaction(async (tx) => {
    const before = await listFaultSettings(tx);
    for (const item of parsed.data.items) await setFaultSetting(tx, item);
    const after = await listFaultSettings(tx);
    await recordAudit(tx, by, {
      action: 'faults.set',
      target: [...changed].join(','),
      reason: parsed.data.reason || null,
      before: before.filter((s) => changed.has(s.task)),
      after: after.filter((s) => changed.has(s.task)),
    });
    return after;
  });
}
