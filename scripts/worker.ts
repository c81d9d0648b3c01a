import { embeddedOptionsFromEnv, ensureDatabase } from '@/db/embedded';
import { migrate } from '@/db/migrate';
import { log, validateEnvOrExit } from './lib/cli';

/**
 * `npm run worker`: one more worker process. Beside a running `npm start` it reuses that
 * embedded database; with DATABASE_URL it joins any Postgres (the way to scale out). Alone,
 * it starts the embedded database itself and stops it when the worker stops.
 *
 * The worker handles SIGINT/SIGTERM itself (finishes its running tasks, then returns).
 */

const FORCE_AFTER_MS = 30_000;

validateEnvOrExit();

const db = await ensureDatabase({ ...embeddedOptionsFromEnv(), log: (m) => log(`database: ${m}`) });

// Our own listeners keep a signal from killing the process outright, so that the database we
// own is stopped after the worker; if the worker does not finish in time, we stop anyway.
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals === 1) {
      setTimeout(() => void forceExit('the worker did not stop in time'), FORCE_AFTER_MS).unref();
    } else {
      void forceExit('second signal');
    }
  });
}

async function forceExit(reason: string): Promise<never> {
  log(`${reason}: exiting without waiting for the worker`);
  await db.stop().catch(() => {});
  process.exit(1);
}

let exitCode = 0;
try {
  await migrate(db.url);
  process.env.DATABASE_URL = db.url;
  const { runWorker } = await import('@/jobs/worker');
  await runWorker();
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  if (db.owned) {
    await db.stop();
    log('database stopped');
  }
}
process.exit(exitCode);
