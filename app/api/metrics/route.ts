import { getDb } from '@/db/client';
import { readMetricsSnapshot, type MetricsSnapshot } from '@/db/queries/metrics';
import { getEnv } from '@/lib/env';
import { unauthorized } from '@/lib/errors';
import { publicRoute } from '@/server/http/api-route';
import { bearerTokenOf, sameSecret } from '@/server/http/bearer';
import { METRICS_CONTENT_TYPE, renderMetrics } from '@/server/metrics/prometheus';
import { singleFlight } from '@/lib/metrics/snapshot-cache';

// Never prerendered: every scrape reads the (cached) database figures.
export const dynamic = 'force-dynamic';

/**
 * The snapshot is one pass over the saga table: scrapes share it, read at most once per
 * RXSAGA_METRICS_CACHE_SECONDS (15) by each web process, one read in flight however many
 * Prometheus servers scrape at once. Cached on globalThis so `next dev` reloads keep it.
 */
const cache = globalThis as unknown as { rxsagaMetrics?: () => Promise<MetricsSnapshot> };
const snapshot = () =>
  (cache.rxsagaMetrics ??= singleFlight(
    () => readMetricsSnapshot(getDb()),
    getEnv().RXSAGA_METRICS_CACHE_SECONDS * 1000,
  ))();

/**
 * Open by default (DESIGN.md): Prometheus scrapes without credentials. With
 * RXSAGA_METRICS_TOKEN set, only `Authorization: Bearer <that token>` gets the figures.
 * Figures cover every worker.
 */
export const GET = publicRoute(async ({ request }) => {
  const required = getEnv().RXSAGA_METRICS_TOKEN;
  if (required) {
    const given = bearerTokenOf(request);
    if (!given || !sameSecret(given, required))
      throw unauthorized('send Authorization: Bearer <RXSAGA_METRICS_TOKEN>');
  }
  const text = await renderMetrics(await snapshot());
  return new Response(text, {
    headers: { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' },
  });
});
