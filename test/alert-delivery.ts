import { sql } from 'drizzle-orm';
import type { Database } from '@/db/client';
import { openAlert } from '@/db/alerts';
import { deliverDueAlerts } from '@/jobs/alerts';
import { waitFor } from './saga-harness';
import type { WebhookReceiver } from './webhook-receiver';

/** What the delivery tests sign with. */
export const WEBHOOK_SECRET = 'webhook-secret-0123456789';

/** One alert change's outbox rows, as the evaluator writes them. */
export async function fireAlert(
  db: Database,
  rule: 'queue_backlog' | 'sagas_stalled',
  urls: string[],
) {
  return db.transaction((tx) => openAlert(tx, rule, `${rule} summary`, urls));
}

export async function deliveryRows(db: Database, alertId: string) {
  return [
    ...(await db.execute<{
      delivery_id: string;
      change: string;
      status: string;
      attempts: number;
      last_error: string | null;
      retry_after_seconds: number | null;
    }>(sql`
      select delivery_id, change, status, attempts, last_error,
        extract(epoch from next_attempt_at - last_attempt_at)::float8 as retry_after_seconds
      from alert_deliveries where alert_id = ${alertId} order by created_at, change`)),
  ];
}

/** Runs the sender as a worker would (every 50 ms here) until `done`. */
export async function deliverUntil(
  db: Database,
  done: () => boolean,
  what: string,
  timeoutMs = 40_000,
) {
  await waitFor(
    async () => {
      await deliverDueAlerts(db, 'test-sender', WEBHOOK_SECRET);
      return done();
    },
    timeoutMs,
    what,
  );
}

export const deliveryIds = (r: WebhookReceiver) =>
  r.received.map((m) => m.headers['x-rxsaga-delivery']);
