import { getDb } from '@/db/client';
import { listSagas, sagaListQuerySchema } from '@/db/queries/sagas';
import { forViewer } from '@/lib/auth/redact';
import { parseQuery, viewerRoute } from '@/lib/http/api-route';
import { json } from '@/lib/http/responses';

/** `?state=&needsIntervention=&q=&cursor=&limit=`: newest first, keyset-paginated. */
export const GET = viewerRoute(async ({ request, principal }) => {
  const page = await listSagas(getDb(), parseQuery(request, sagaListQuerySchema));
  return json(forViewer(principal, page));
});
