import { getDb } from '@/db/client';
import { listSagas, sagaListQuerySchema } from '@/db/queries/sagas';
import { forViewer, seesPatientData } from '@/lib/auth/redact';
import { parseQuery, viewerRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/**
 * `?state=&needsIntervention=&q=&cursor=&limit=`: newest first, keyset-paginated. A viewer's
 * `q` matches order and saga ids only: looking a patient up is for those who see patient data.
 */
export const GET = viewerRoute(async ({ request, principal }) => {
  const query = parseQuery(request, sagaListQuerySchema);
  const page = await listSagas(getDb(), query, { matchPatientId: seesPatientData(principal) });
  return json(forViewer(principal, page));
});
