import type postgres from 'postgres';
import type { DbOrTx } from './client';

/**
 * The postgres.js handle under a Drizzle database or transaction, for the few statements every saga
 * task runs (lock, append, save, jobs). Drizzle builds each query anew on every call (column
 * lists, name escaping, type checks): `npm run bench` profiled that at ≈ 30 % of a worker's
 * CPU. A postgres.js tagged template is built once and runs as a cached prepared statement.
 * Same transaction, same connection: the two mix freely. Drizzle keeps this handle in its
 * session (`session.client`, drizzle-orm 0.45); the check below fails loudly if that changes.
 */
export function rawSql(db: DbOrTx): postgres.Sql {
  const client = (db as unknown as { session?: { client?: unknown } }).session?.client;
  if (typeof client !== 'function') {
    throw new Error(
      'drizzle handle has no postgres.js client: check db/raw.ts against drizzle-orm',
    );
  }
  return client as postgres.Sql;
}

/**
 * drizzle-orm's postgres-js driver makes the shared client pass timestamps through as text in
 * both directions (it converts them itself), so raw statements do the same: timestamps are read
 * as text and parsed here, and sent as ISO strings.
 */
export type RawTimestamp = string;

export function readTimestamp(value: RawTimestamp): Date;
export function readTimestamp(value: RawTimestamp | null): Date | null;
export function readTimestamp(value: RawTimestamp | null): Date | null {
  return value === null ? null : new Date(value);
}

export function timestampParam(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}
