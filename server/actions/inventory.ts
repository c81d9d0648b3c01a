'use server';

import { revalidatePath } from 'next/cache';
import { getDb } from '@/db/client';
import { requireOperator } from '@/server/auth/guards';
import { auditActorOf } from '@/lib/auth/principal';
import { setOnHand, type StockLevel } from '@/server/commands/set-on-hand';
import { refusalResult, type ActionResult } from '@/server/web/action-result';

/** Sets a SKU's counted stock; the command refuses a figure below what is reserved. */
export async function setOnHandAction(
  _previous: ActionResult<StockLevel> | null,
  form: FormData,
): Promise<ActionResult<StockLevel>> {
  try {
    const principal = await requireOperator();
    const raw = String(form.get('onHand') ?? '').trim();
    const reason = String(form.get('reason') ?? '').trim();
    const level = await setOnHand(
      getDb(),
      String(form.get('sku') ?? ''),
      { onHand: raw === '' ? Number.NaN : Number(raw), ...(reason ? { reason } : {}) },
      auditActorOf(principal),
    );
    revalidatePath('/inventory');
    return { ok: true, data: level };
  } catch (error) {
    return refusalResult(error, 'inventory.set_on_hand');
  }
}
