import { embeddedOptionsFromEnv, ensureDatabase } from '@/db/embedded';
import { migrate } from '@/db/migrate';
import { log, validateEnvOrExit } from './lib/cli';

/** `npm run db:migrate`: apply Drizzle and graphile-worker migrations, then exit. */

validateEnvOrExit();

const db = await ensureDatabase({ ...embeddedOptionsFromEnv(), log: (m) => log(`database: ${m}`) });
try {
  await migrate(db.url);
  log('migrations applied');
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await db.stop();
}
