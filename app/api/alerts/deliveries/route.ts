import { getDb } from '@/db/client';
import { listDeliveries } from '@/db/alerts';
import { webhookTarget } from '@/lib/alerts/webhook';
import { viewerRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/** The webhook outbox: undelivered messages first (oldest first), then recent deliveries. */
export const GET = viewerRoute(async () =>
  json({ items: await listDeliveries(getDb(), webhookTarget) }),
);
