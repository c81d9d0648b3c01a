import { getDb } from '@/db/client';
import { listAlerts } from '@/db/alerts';
import { viewerRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/** Firing alerts first (newest first), then the recent history (docs/alerts.md). */
export const GET = viewerRoute(async () => {
  const items = (await listAlerts(getDb())).map(
    ({ alertId, rule, status, summary, startedAt, resolvedAt }) => ({
      alertId,
      rule,
      status,
      summary,
      startedAt,
      resolvedAt,
    }),
  );
  return json({ items });
});
