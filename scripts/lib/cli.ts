import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertPostgresPatched } from '@/db/postgres-patch.mjs';
import { connect } from '@/db/client';
import { ensureDatabase } from '@/db/embedded';
import { migrate } from '@/db/migrate';
import { EnvError, parseEnv, type Env } from '@/lib/env';

type Connection = ReturnType<typeof connect>;

/** Shared start-up steps of the scripts. */

export const log = (message: string) => console.log(`[rxsaga] ${message}`);

/**
 * The URL this machine reaches the web app at: its listen address, or loopback when it listens
 * on every interface (0.0.0.0 / ::).
 */
export function localUrl(host: string, port: number): string {
  const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Refuses to start on an unpatched postgres.js (db/postgres-patch.mjs): an install that skipped
 * its postinstall (`--ignore-scripts`), or another postgres version than the pinned one.
 */
function checkPatchedOrExit(): void {
  try {
    assertPostgresPatched(projectRoot);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}

/**
 * Validates the configuration before anything starts; a bad variable ends the process with a
 * message that names it. Not cached (unlike getEnv()): the scripts set DATABASE_URL later.
 */
export function validateEnvOrExit(): Env {
  checkPatchedOrExit();
  // `DATABASE_URL=` (empty) means unset: the e2e config uses it to keep a developer's database out.
  if (process.env.DATABASE_URL === '') delete process.env.DATABASE_URL;
  try {
    return parseEnv(process.env);
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}

/**
 * Runs a maintenance command (replay, archive, restore) against the application's database:
 * DATABASE_URL, or the embedded one (started for the command and stopped after), migrated
 * first. The process exits with the command's code; an error prints its message and exits 1.
 */
export function runDatabaseCommand(
  command: (conn: Connection) => Promise<number>,
  poolSize = 3,
): void {
  const main = async () => {
    const database = await ensureDatabase();
    const conn = connect(database.url, poolSize);
    try {
      await migrate(database.url);
      return await command(conn);
    } finally {
      await conn.sql.end({ timeout: 5 });
      await database.stop();
    }
  };
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
