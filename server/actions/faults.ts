'use server';

import { revalidatePath } from 'next/cache';
import { getDb } from '@/db/client';
import type { FaultSetting } from '@/lib/domain/fault-injection';
import { requireOperator } from '@/server/auth/guards';
import { auditActorOf } from '@/lib/auth/principal';
import { setFaultSettings } from '@/server/commands/set-fault-settings';
import { TASKS } from '@/lib/saga/model';
import { refusalResult, type ActionResult } from '@/server/web/action-result';

const percent = (form: FormData, name: string) => {
  const raw = String(form.get(name) ?? '').trim();
  return raw === '' ? 0 : Number(raw) / 100;
};

/** Rates are typed as percentages on the form; the command takes shares (0–1) and validates. */
export async function setFaultsAction(
  _previous: ActionResult<FaultSetting[]> | null,
  form: FormData,
): Promise<ActionResult<FaultSetting[]>> {
  try {
    const principal = await requireOperator();
    const items = TASKS.map((task) => ({
      task,
      failureRate: percent(form, `${task}.failureRate`),
      transientRate: percent(form, `${task}.transientRate`),
      latencyMs: Number(String(form.get(`${task}.latencyMs`) ?? '0').trim() || 0),
    }));
    const reason = String(form.get('reason') ?? '').trim();
    const settings = await setFaultSettings(
      getDb(),
      { items, ...(reason ? { reason } : {}) },
      auditActorOf(principal),
    );
    revalidatePath('/drills');
    return { ok: true, data: settings };
  } catch (error) {
    return refusalResult(error, 'faults.set');
  }
}
