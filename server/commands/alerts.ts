import { queueTestAlert, retryDeliveryNow } from '@/db/alerts';
import type { Database } from '@/db/client';
import { recordAudit, type AuditActor } from '@/db/audit';
import { webhookTarget } from '@/lib/alerts/webhook';
import { getEnv } from '@/lib/env';
import { conflict, notFound } from '@/lib/errors';

/**
 * Alert actions from the dashboard and the API (docs/alerts.md). Both only write rows; the
 * alert loop of a worker or web process sends them, like any other change.
 */

/** Queues a test message for every configured webhook URL; 409 when none is configured. */
export async function sendTestAlert(db: Database, by: AuditActor): Promise<{ deliveries: number }> {
  const urls = getEnv().RXSAGA_ALERT_WEBHOOK_URLS;
  if (urls.length === 0)
    throw conflict('no webhook is configured: set RXSAGA_ALERT_WEBHOOK_URLS to send alerts');
  return db.transaction(async (tx) => {
    const ids = await queueTestAlert(tx, urls, by.actor);
    await recordAudit(tx, by, {
      action: 'alerts.send_test',
      target: null,
      after: { deliveries: ids, targets: urls.map(webhookTarget) },
    });
    return { deliveries: ids.length };
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** "Retry now" of an undelivered message: due at once. 404 unknown, 409 already delivered. */
export async function retryAlertDelivery(
  db: Database,
  deliveryId: string,
  by: AuditActor,
): Promise<{ deliveryId: string }> {
  if (!UUID.test(deliveryId)) throw notFound(`no delivery ${deliveryId}`);
  return db.transaction(async (tx) => {
    const outcome = await retryDeliveryNow(tx, deliveryId);
    if (outcome === 'missing') throw notFound(`no delivery ${deliveryId}`);
    if (outcome === 'delivered') throw conflict('this message was delivered already');
    await recordAudit(tx, by, { action: 'alerts.retry_delivery', target: deliveryId });
    return { deliveryId };
  });
}
