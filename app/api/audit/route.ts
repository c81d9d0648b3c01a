import { getDb } from '@/db/client';
import { auditQuerySchema, listAudit } from '@/db/queries/audit';
import { parseQuery, viewerRoute } from '@/lib/http/api-route';
import { json } from '@/lib/http/responses';

/** `?action=&target=&cursor=&limit=`: operator actions and sign-ins, newest first. */
export const GET = viewerRoute(async ({ request }) =>
  json(await listAudit(getDb(), parseQuery(request, auditQuerySchema))),
);
