import type { Metadata } from 'next';
import { getDb } from '@/db/client';
import { listAlerts, listDeliveries } from '@/db/alerts';
import { AlertsView } from '@/components/alerts/alerts-view';
import { PageHeader } from '@/components/ui/page-header';
import { webhookTarget } from '@/lib/alerts/webhook';
import { getEnv } from '@/lib/env';
import { canAdminister, canOperate } from '@/lib/auth/principal';
import { requirePageViewer } from '@/server/web/page-auth';

export const metadata: Metadata = { title: 'Alerts · RxSaga' };

export default async function AlertsPage() {
  const principal = await requirePageViewer('/alerts');
  const db = getDb();
  const [alerts, deliveries] = await Promise.all([
    listAlerts(db),
    listDeliveries(db, webhookTarget),
  ]);
  const env = getEnv();
  return (
    <>
      <PageHeader
        title="Alerts"
        description={`Rules evaluated every ${env.RXSAGA_ALERT_EVALUATE_SECONDS} s. Each firing and each resolution is sent to ${env.RXSAGA_ALERT_WEBHOOK_URLS.length} webhook${env.RXSAGA_ALERT_WEBHOOK_URLS.length === 1 ? '' : 's'}.`}
      />
      <AlertsView
        initialAlerts={alerts}
        initialDeliveries={deliveries}
        canOperate={canOperate(principal)}
        // A test alert checks the alert settings: an admin's (DESIGN.md).
        canSendTest={canAdminister(principal)}
        webhooks={env.RXSAGA_ALERT_WEBHOOK_URLS.map(webhookTarget)}
      />
    </>
  );
}
