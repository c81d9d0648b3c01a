import path from 'node:path';
import postgres from 'postgres';
import { ensureDatabase, projectRoot, type DatabaseHandle } from '@/db/embedded';
import { migrate } from '@/db/migrate';

/**
 * The bench database: DATABASE_URL when set, otherwise a dedicated embedded cluster under
 * .data/bench-pg on its own port, with fsync on (a durable database, like `npm start`).
 */
const BENCH_DATA_DIR = path.join(projectRoot, '.data', 'bench-pg');
// RXSAGA_BENCH_PG_PORT: another port when another checkout's bench holds 54339.
const BENCH_PORT = Number(process.env.RXSAGA_BENCH_PG_PORT ?? 54339);

/** Enough stock for any run: the bench measures the engine, not stock-outs. */
const BENCH_STOCK = 100_000_000;

export interface BenchDatabase extends DatabaseHandle {
  admin: postgres.Sql;
  settings: Record<string, string>;
  dataDirectory: string;
}

export async function openBenchDatabase(log: (m: string) => void): Promise<BenchDatabase> {
  const handle = await ensureDatabase({
    dataDir: BENCH_DATA_DIR,
    port: BENCH_PORT,
    database: 'rxsaga_bench',
    // The harness resets databases and reads server statistics and settings.
    as: 'superuser',
    fsync: true,
    log: (m) => log(`database: ${m}`),
  });
  try {
    await migrate(handle.url);
  } catch (err) {
    // The bench database is disposable: a history that no longer matches the migrations (a
    // migration regenerated during development) is dropped and built again.
    if (process.env.DATABASE_URL) throw err;
    log(
      `database: migrations do not apply to the old bench database (${(err as Error).message.split('\n')[0]}): recreating it`,
    );
    await recreateDatabase(handle.url);
    await migrate(handle.url);
  }
  return { ...handle, ...(await inspectDatabase(handle.url)) };
}

/** A connection for the harness and the server settings the report shows. */
export async function inspectDatabase(
  url: string,
): Promise<Pick<BenchDatabase, 'admin' | 'settings' | 'dataDirectory'>> {
  const admin = postgres(url, {
    max: 4,
    onnotice: () => {},
    connection: { application_name: 'rxsaga-bench' },
  });
  const settings: Record<string, string> = {};
  for (const name of [
    'server_version',
    'fsync',
    'synchronous_commit',
    'full_page_writes',
    'wal_sync_method',
    'shared_buffers',
    'max_connections',
  ]) {
    const [row] = await admin.unsafe<{ v: string }[]>(`select current_setting('${name}') as v`);
    settings[name] = row!.v;
  }
  // Readable by superusers and pg_read_all_settings only; without it PostgreSQL's CPU is not counted.
  const [dir] = await admin<
    { v: string | null }[]
  >`select current_setting('data_directory', true) as v`.catch(() => [{ v: null }]);
  return { admin, settings, dataDirectory: dir?.v ?? '' };
}

export function isDurable(settings: Record<string, string>): boolean {
  return settings.fsync === 'on' && settings.synchronous_commit !== 'off';
}

/**
 * Empties every saga table and the job queue and restores the catalog's stock: each run starts
 * alike. TRUNCATE leaves the emptied tables without statistics, as on a new installation, so
 * the planner assumes a few pages and looks rows up by index. They are deliberately not
 * ANALYZEd empty: statistics that say "0 rows" make PostgreSQL cache sequential-scan plans for
 * every key lookup of the run (the tables grow to thousands of rows within seconds, long before
 * autovacuum analyzes them again), and the floor and the engine then spend most of their
 * database CPU scanning (seen in pg_stat_all_tables: ~40 full scans of the saga table per saga).
 */
export async function resetForRun(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(`
    truncate events, order_fulfillment_sagas, orders, prescriptions, inventory_reservations, shipments,
      fault_injections, worker_heartbeats, saga_stats_hourly, signal_event_stats_hourly,
      metric_counters, metric_counter_deltas,
      graphile_worker._private_jobs, graphile_worker._private_job_queues;
  `);
  await seedCatalog(sql);
  await sql`update inventory_items set on_hand = ${BENCH_STOCK}, reserved = 0`;
  // The out-of-stock SKU of the failure mix (see orders.ts).
  await sql`update inventory_items set on_hand = 0 where sku = ${OUT_OF_STOCK_SKU}`;
  await sql.unsafe('vacuum analyze inventory_items, medications');
}

export const OUT_OF_STOCK_SKU = 'INSU-GLAR';

async function seedCatalog(sql: postgres.Sql): Promise<void> {
  const { DEMO_CATALOG } = await import('@/db/seed');
  for (const m of DEMO_CATALOG) {
    await sql`insert into medications (sku, name, requires_prescription, max_quantity_per_order)
      values (${m.sku}, ${m.name}, ${m.requiresPrescription}, ${m.maxQuantityPerOrder}) on conflict do nothing`;
    await sql`insert into inventory_items (sku, on_hand) values (${m.sku}, ${BENCH_STOCK}) on conflict do nothing`;
  }
}

async function recreateDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const sql = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop database if exists "${name}" with (force)`);
    await sql.unsafe(`create database "${name}"`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
