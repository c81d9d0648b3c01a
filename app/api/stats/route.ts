import { getDb } from '@/db/client';
import { getStats, statsQuerySchema } from '@/db/queries/stats';
import { parseQuery, viewerRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/** `?window=1h|24h|7d|all` (default 24h). */
export const GET = viewerRoute(async ({ request }) => {
  const { window } = parseQuery(request, statsQuerySchema);
  return json(await getStats(getDb(), window));
});
