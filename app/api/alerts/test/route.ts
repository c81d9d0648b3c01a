import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { sendTestAlert } from '@/server/commands/alerts';
import { adminRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/**
 * 202 `{ deliveries }`: a test message queued for every webhook; 409 when none is configured.
 * It checks the alert settings (the webhooks), so it is an admin's (DESIGN.md).
 */
export const POST = adminRoute(async ({ principal, requestId }) =>
  json(await sendTestAlert(getDb(), auditActorOf(principal, requestId)), { status: 202 }),
);
