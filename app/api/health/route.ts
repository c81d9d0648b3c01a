import { getConnection } from '@/db/client';
import { logger } from '@/server/logger';

// Never prerendered: `next build` must not try to reach a database.
export const dynamic = 'force-dynamic';

const TIMEOUT_MS = 3000;

/**
 * Ready means: the database answers, our Drizzle migrations have run and graphile-worker's
 * schema exists. `npm start` and Playwright wait on this before sending traffic.
 *
 * The route is open, so a database failure is answered in our own words: the driver's text
 * names hosts, ports, users and databases. The detail goes to the log for the operator.
 */
export async function GET() {
  try {
    const { sql } = getConnection();
    const check = sql<{ migrations: number; worker: boolean }[]>`
      select
        (select count(*)::int from drizzle.__drizzle_migrations) as migrations,
        exists(select 1 from pg_namespace where nspname = 'graphile_worker') as worker`;
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`database did not answer within ${TIMEOUT_MS} ms`)),
        TIMEOUT_MS,
      ).unref(),
    );
    const [row] = await Promise.race([check, timeout]);
    if (!row || row.migrations < 1) return unhealthy('database migrations have not been applied');
    if (!row.worker) return unhealthy('graphile-worker schema is missing');
    return Response.json({ ok: true }, { headers: { 'cache-control': 'no-store' } });
  } catch (err) {
    logger.warn({ err }, 'health check: the database is not available');
    return unhealthy('database unavailable');
  }
}

function unhealthy(error: string) {
  return Response.json(
    { ok: false, error },
    { status: 503, headers: { 'cache-control': 'no-store' } },
  );
}
