import { getDb } from '@/db/client';
import { readMetricsSnapshot } from '@/db/queries/metrics';
import { publicRoute } from '@/lib/http/api-route';
import { METRICS_CONTENT_TYPE, renderMetrics } from '@/lib/metrics/prometheus';

// Never prerendered: every scrape reads the database.
export const dynamic = 'force-dynamic';

/** Open (DESIGN.md): Prometheus scrapes without credentials. Figures cover every worker. */
export const GET = publicRoute(async () => {
  const text = await renderMetrics(await readMetricsSnapshot(getDb()));
  return new Response(text, {
    headers: { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' },
  });
});
