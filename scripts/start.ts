import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect } from '@/db/client';
import {
  embeddedOptionsFromEnv,
  ensureDatabase,
  projectRoot,
  type DatabaseHandle,
} from '@/db/embedded';
import { migrate } from '@/db/migrate';
import { buildReason, nextWebArgs, runNextBuild } from './lib/build';
import { localUrl, log, validateEnvOrExit } from './lib/cli';
import { ensureCredentials, type CredentialsResult } from './lib/credentials';
import { Supervised, waitForHealthy } from './lib/supervisor';

/**
 * `npm start`: database (embedded unless DATABASE_URL) → migrations → demo catalog → build
 * when needed → web + one worker, supervised. Ctrl-C / SIGTERM stops the children first and
 * the database last, so the worker can finish its running tasks.
 *
 * Run as `node --import tsx scripts/start.ts`: through `npx tsx` our signals would not arrive.
 * `--dev` (npm run dev): `next dev` instead of build + `next start`.
 * Infra-only settings (not app config): RXSAGA_DATA_DIR, RXSAGA_PG_PORT, RXSAGA_FSYNC=off,
 * RXSAGA_FRESH_DB=1 (wipe the embedded database first; used by the e2e tests).
 */

const STOP_TIMEOUT_MS = 15_000;
const dev = process.argv.includes('--dev');

let shuttingDown = false;
let database: Promise<DatabaseHandle> | undefined;
let build: { kill: () => void } | undefined;
const children: Supervised[] = [];

async function main(): Promise<void> {
  const env = validateEnvOrExit();
  database = ensureDatabase({ ...embeddedOptionsFromEnv(), log: (m) => log(`database: ${m}`) });
  const db = await database;
  if (shuttingDown) return;
  if (!db.owned) log(`database: ${redact(db.url)}`);

  await migrate(db.url);
  log('migrations applied');
  const credentials = await ensureCredentials(path.join(projectRoot, '.data'));
  await seed(db.url, credentials);
  printCredentials(credentials);

  const reason = dev ? undefined : buildReason(projectRoot);
  if (reason && !shuttingDown) {
    log(`building the web app (${reason}); this takes a minute or two`);
    const running = runNextBuild(projectRoot);
    build = running;
    const code = await running.done;
    build = undefined;
    if (shuttingDown) return;
    if (code !== 0) throw new Error(`next build failed (exit code ${code})`);
  }
  if (shuttingDown) return;

  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.url,
    PORT: String(env.PORT),
    RXSAGA_API_TOKEN: credentials.apiToken,
    RXSAGA_ADMIN_PASSWORD: credentials.adminPassword,
    RXSAGA_VIEWER_PASSWORD: credentials.viewerPassword,
    NEXT_TELEMETRY_DISABLED: '1',
  };
  const preload = pathToFileURL(path.join(projectRoot, 'scripts/lib/exit-with-parent.mjs')).href;
  const next = [
    '--import',
    preload,
    ...nextWebArgs(projectRoot),
    dev ? 'dev' : 'start',
    '-p',
    String(env.PORT),
    // Next.js listens on every interface unless told; ours defaults to loopback (lib/env.ts).
    '-H',
    env.RXSAGA_HOST,
  ];
  const worker = ['--import', 'tsx', '--import', preload, path.join(projectRoot, 'jobs/worker.ts')];
  children.push(
    new Supervised({
      name: 'web',
      args: next,
      env: { ...childEnv, RXSAGA_PROCESS: 'web' },
      cwd: projectRoot,
      log,
    }),
    new Supervised({
      name: 'worker',
      args: worker,
      env: { ...childEnv, RXSAGA_PROCESS: 'worker' },
      cwd: projectRoot,
      log,
    }),
  );
  for (const child of children) child.start();

  const url = localUrl(env.RXSAGA_HOST, env.PORT);
  const healthy = await waitForHealthy(
    `${url}/api/health`,
    () => shuttingDown,
    () => log('still waiting for /api/health to answer 200…'),
  );
  if (healthy) log(`RxSaga is ready: ${url}  (Ctrl-C to stop)`);
}

async function seed(url: string, credentials: CredentialsResult): Promise<void> {
  const { seedDemoCatalog } = await import('@/db/seed');
  const { ensureBootstrapAccounts } = await import('@/server/auth/bootstrap');
  const { db, sql } = connect(url, 1);
  try {
    if (await seedDemoCatalog(db)) log('demo catalog and stock loaded');
    const created = await ensureBootstrapAccounts(db, {
      admin: credentials.adminPassword,
      viewer: credentials.viewerPassword,
    });
    if (created.length > 0) log(`accounts created: ${created.join(', ')}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function printCredentials(c: CredentialsResult): void {
  const file = path.relative(process.cwd(), c.file);
  if (c.source === 'file') log(`operator credentials: ${file}`);
  if (c.source !== 'generated') return;
  log(`operator credentials generated once and saved to ${file} (owner-only):`);
  log(`  account admin:   ${c.adminPassword}  (role admin: make everyone their own account)`);
  log(`  account viewer:  ${c.viewerPassword}  (read-only)`);
  log(`  API token:       ${c.apiToken}  (Authorization: Bearer …, operator, actor "api")`);
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

async function shutdown(reason: string, exitCode: number): Promise<never> {
  shuttingDown = true;
  log(`${reason}: stopping…`);
  build?.kill();
  await Promise.all(children.map((child) => child.stop(STOP_TIMEOUT_MS)));
  const db = await database?.catch(() => undefined);
  if (db?.owned) {
    await db.stop();
    log('database stopped');
  }
  log('stopped');
  process.exit(exitCode);
}

let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals === 1) return void shutdown(`received ${signal}`, 0);
    // A second Ctrl-C: the user does not want to wait for running tasks.
    log('second signal: forcing shutdown');
    for (const child of children) child.kill();
    void database
      ?.then((db) => db.stop())
      .catch(() => {})
      .finally(() => process.exit(1));
    if (!database) process.exit(1);
  });
}

main().catch((err: unknown) => {
  if (shuttingDown) return;
  console.error(err);
  void shutdown('start-up failed', 1);
});
