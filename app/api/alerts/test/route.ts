import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { sendTestAlert } from '@/lib/commands/alerts';
import { operatorRoute } from '@/lib/http/api-route';
import { json } from '@/lib/http/responses';

/**
 * 202 `{ deliveries }`: a test message queued for every webhook; 409 when none is configured.
 * Alert settings are an admin's (DESIGN.md); until the admin role exists, an operator's.
 */
export const POST = operatorRoute(async ({ principal, requestId }) =>
  json(await sendTestAlert(getDb(), auditActorOf(principal, requestId)), { status: 202 }),
);
