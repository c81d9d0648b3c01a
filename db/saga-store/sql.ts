import type postgres from 'postgres';
import type { DbOrTx } from '../client';

/**
 * The postgres.js handle under a Drizzle database or transaction, for the statements every saga
 * task runs. Drizzle builds each query anew on every call (column lists, name escaping, type
 * checks): `npm run bench` profiled that at ≈ 30 % of a worker's CPU. The store's statements are
 * built once, at load (from db/schema.ts, see codec.ts), and run as cached prepared statements.
 * Same transaction, same connection: the two mix freely. Drizzle keeps this handle in its
 * session (`session.client`, drizzle-orm 0.45); the check below fails loudly if that changes.
 */
export function rawSql(db: DbOrTx): postgres.Sql {
  const client = (db as unknown as { session?: { client?: unknown } }).session?.client;
  if (typeof client !== 'function') {
    throw new Error(
      'drizzle handle has no postgres.js client: check db/saga-store/sql.ts against drizzle-orm',
    );
  }
  return client as postgres.Sql;
}

/** Runs a statement built at load (prepared once per connection, like a tagged template). */
export function runPrepared<T extends object = Record<string, unknown>>(
  db: DbOrTx,
  text: string,
  params: readonly unknown[],
): Promise<T[]> {
  return rawSql(db).unsafe(text, params as postgres.ParameterOrJSON<never>[], {
    prepare: true,
  }) as unknown as Promise<T[]>;
}

/**
 * Sends the statements one after the other without waiting for each answer: they travel
 * together on the transaction's connection (one round trip instead of one each). This is the
 * one place that relies on the rule that makes it safe: a postgres.js query is sent when its
 * `then` is first called, queries go out in that order and PostgreSQL runs them in that order,
 * so a statement may depend on the ones before it (a row lock taken by the first is held when
 * the second runs). Hence statements, not async functions: `then` is called here, synchronously,
 * in argument order (`await`, or `Promise.all`, would call it one microtask later, and an async
 * function's own `await` could then overtake a statement passed before it). The first error
 * aborts the transaction; every statement is awaited, so none is left with an unhandled
 * rejection.
 */
export function pipeline<const T extends readonly PromiseLike<unknown>[]>(
  ...statements: T
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const sent = statements.map((s) => new Promise((resolve, reject) => s.then(resolve, reject)));
  return Promise.all(sent) as Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }>;
}

/**
 * drizzle-orm's postgres-js driver makes the shared client pass timestamps through as text in
 * both directions (it converts them itself), so hand-written statements outside the codecs
 * read them as text and parse them here.
 */
export type RawTimestamp = string;

export function readTimestamp(value: RawTimestamp): Date;
export function readTimestamp(value: RawTimestamp | null): Date | null;
export function readTimestamp(value: RawTimestamp | null): Date | null {
  return value === null ? null : new Date(value);
}

/**
 * Lets the event loop run what is waiting (other tasks' I/O) before a long synchronous stretch
 * goes on: a bulk batch's work is tens of ms of JavaScript, on the worker new sagas' tasks share.
 */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
