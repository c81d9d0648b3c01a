import { getDb } from '@/db/client';
import { auditQuerySchema, listAudit } from '@/db/queries/audit';
import { forViewer } from '@/lib/auth/redact';
import { parseQuery, viewerRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/**
 * `?action=&target=&cursor=&limit=`: operator actions and sign-ins, newest first. Masked for
 * viewers like the Audit page: entries can carry patient data in their before/after.
 */
export const GET = viewerRoute(async ({ request, principal }) =>
  json(forViewer(principal, await listAudit(getDb(), parseQuery(request, auditQuerySchema)))),
);
