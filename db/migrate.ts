import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate as drizzleMigrate } from 'drizzle-orm/postgres-js/migrator';
import { Logger, runMigrations } from 'graphile-worker';
import postgres from 'postgres';
import { TASKS } from '@/lib/saga/model';

/**
 * Brings a database to the current schema: our Drizzle migrations (db/migrations), then
 * graphile-worker's own schema. `npm start`, `npm run worker` and the test runner all call it,
 * possibly at the same moment, so it runs under a session advisory lock.
 */

const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Arbitrary but fixed: every RxSaga process agrees on it. */
const MIGRATION_LOCK_KEY = 7_201_652_001;

// graphile-worker logs every migration at info level; only problems are worth showing here.
const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') console.error(`[graphile-worker] ${message}`);
});

export async function migrate(url: string): Promise<void> {
  // A dedicated connection holds the lock; the migrations use their own.
  const lock = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await lock`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await drizzleMigrate(drizzle(sql), { migrationsFolder });
      await runMigrations({ connectionString: url, logger: quietLogger });
      // db/saga-store/graphile-jobs.ts writes jobs against graphile-worker's task rows: they must all exist.
      await sql`insert into graphile_worker._private_tasks (identifier)
        select unnest(${TASKS as unknown as string[]}::text[]) on conflict do nothing`;
    } finally {
      await lock`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await Promise.all([sql.end({ timeout: 5 }), lock.end({ timeout: 5 })]);
  }
}
