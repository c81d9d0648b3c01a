import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { getEnv } from '@/lib/env';
import { assertPostgresPatched } from './postgres-patch.mjs';
import * as schema from './schema';

export type Database = PostgresJsDatabase<typeof schema>;
/** A transaction handle: every helper that must join a transaction takes one as first argument. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
export type DbOrTx = Database | Tx;

interface Connection {
  sql: postgres.Sql;
  db: Database;
}

const globalForDb = globalThis as unknown as { rxsagaDb?: Connection };

/** The server ends a transaction of ours left idle this long (see connect()). */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;

/** Connections of the process-wide pool; the web admits as many API requests at once (server/http/db-slots.ts). */
export const WEB_POOL_MAX = 10;

export function connect(url: string, max = WEB_POOL_MAX): Connection {
  // Web and worker alike: never run on an unpatched postgres.js (an `--ignore-scripts` install).
  assertPostgresPatched();
  const sql = postgres(url, {
    max,
    onnotice: () => {},
    // Dates stay as ISO strings at the edges; timestamps come back as Date objects.
    connection: {
      application_name: 'rxsaga',
      // A process cut off from the database mid-transaction (a network partition) would
      // otherwise keep its row locks until the server notices the dead connection, which with
      // default TCP settings takes hours: no other worker could take over its saga, and the
      // sweeper's release of its jobs would wait on those locks. Our transactions never sit
      // idle this long (an injected step latency above it fails the step as transient).
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
  });
  return { sql, db: drizzle(sql, { schema }) };
}

/** The process-wide pool, cached on globalThis so dev reloads do not open new pools. */
export function getConnection(): Connection {
  if (!globalForDb.rxsagaDb) {
    const url = getEnv().DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set (start through npm start, or set it)');
    globalForDb.rxsagaDb = connect(url);
  }
  return globalForDb.rxsagaDb;
}

export function getDb(): Database {
  return getConnection().db;
}

export async function closeDb(): Promise<void> {
  const conn = globalForDb.rxsagaDb;
  globalForDb.rxsagaDb = undefined;
  if (conn) await conn.sql.end({ timeout: 5 });
}
