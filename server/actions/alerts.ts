'use server';

import { revalidatePath } from 'next/cache';
import { getDb } from '@/db/client';
import { requireAdmin, requireOperator } from '@/server/auth/guards';
import { auditActorOf } from '@/lib/auth/principal';
import { retryAlertDelivery, sendTestAlert } from '@/server/commands/alerts';
import { refusalResult, type ActionResult } from '@/server/web/action-result';

/**
 * The Alerts page's buttons: the same commands as POST /api/alerts/test and
 * POST /api/alerts/deliveries/:id/retry. A test alert checks the alert settings (the webhooks),
 * so it is an admin's (DESIGN.md); retrying an undelivered message is an operator's action.
 */
export async function sendTestAlertAction(): Promise<ActionResult<{ deliveries: number }>> {
  try {
    const principal = await requireAdmin();
    const data = await sendTestAlert(getDb(), auditActorOf(principal));
    revalidatePath('/alerts');
    return { ok: true, data };
  } catch (error) {
    return refusalResult(error, 'alerts.send_test');
  }
}

export async function retryDeliveryAction(
  deliveryId: string,
): Promise<ActionResult<{ deliveryId: string }>> {
  try {
    const principal = await requireOperator();
    const data = await retryAlertDelivery(getDb(), deliveryId, auditActorOf(principal));
    revalidatePath('/alerts');
    return { ok: true, data };
  } catch (error) {
    return refusalResult(error, 'alerts.retry_delivery');
  }
}
