import { EnvError, parseEnv, type Env } from '@/lib/env';

/** Shared start-up steps of the scripts. */

export const log = (message: string) => console.log(`[rxsaga] ${message}`);

/**
 * Validates the configuration before anything starts; a bad variable ends the process with a
 * message that names it. Not cached (unlike getEnv()): the scripts set DATABASE_URL later.
 */
export function validateEnvOrExit(): Env {
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
