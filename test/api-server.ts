import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before } from 'node:test';
import { insertAccount } from '@/db/accounts';
import { closeDb, getDb, type Database } from '@/db/client';
import { seedDemoCatalog } from '@/db/seed';
import { startWorker, type WorkerHandle } from '@/jobs/worker';
import { ensureBootstrapAccounts } from '@/server/auth/bootstrap';
import { hashPassword } from '@/lib/auth/passwords';
import { resetEnvForTests } from '@/lib/env';
import { logger } from '@/server/logger';
import { buildReason, nextWebArgs, runNextBuild } from '@/scripts/lib/build';
import { createTestDatabase } from './db';

/**
 * The real app over real HTTP: `next start` on a free port against a fresh test database,
 * plus an in-process worker, so API tests exercise routing, headers, cookies and the error
 * model exactly as clients see them. Builds first when there is no build or it is stale.
 */

const root = path.resolve(import.meta.dirname, '..');

export const CREDENTIALS = {
  RXSAGA_API_TOKEN: 'test-api-token-0123456789abcdef',
  RXSAGA_ADMIN_PASSWORD: 'admin-password-01',
  RXSAGA_VIEWER_PASSWORD: 'viewer-password-1',
};

/** The accounts every API test can sign in as: two from the bootstrap, one made in `before`. */
export const ACCOUNTS = {
  admin: { username: 'admin', password: CREDENTIALS.RXSAGA_ADMIN_PASSWORD },
  viewer: { username: 'viewer', password: CREDENTIALS.RXSAGA_VIEWER_PASSWORD },
  operator: { username: 'olga', password: 'operator-password-1' },
} as const;

export type As = 'token' | 'admin' | 'operator' | 'viewer' | 'anonymous';

/** Response bodies are whatever JSON the server sent; the assertions are what check their shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ApiResponse<T = Json> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Sent as is (for malformed or oversized bodies). */
  rawBody?: string;
  as?: As;
  headers?: Record<string, string>;
  /** Aborting it closes the connection, as a client that gives up does. */
  signal?: AbortSignal;
}

export interface ApiServer {
  db: Database;
  baseUrl: string;
  request: <T = Json>(path: string, options?: RequestOptions) => Promise<ApiResponse<T>>;
  /**
   * A request sent from another loopback address (`127.0.1.7`): the server sees a distinct
   * client, as it would another machine. Node's http, since fetch cannot pick its address.
   */
  requestFrom: (
    localAddress: string,
    path: string,
    options?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ) => Promise<ApiResponse>;
  /** Signs in through POST /api/session and returns the cookie (`name=value`). */
  signIn: (username: string, password: string) => Promise<string>;
}

export interface ApiServerOptions {
  worker?: boolean;
  /** More environment for the app; a function runs first in this helper's `before` (a service to start). */
  env?: Record<string, string> | (() => Promise<Record<string, string>>);
  /** Runs once the app answers (its address is known). */
  started?: (server: ApiServer) => void | Promise<void>;
}

/**
 * Node 20 runs a file's top-level `before` hooks at the same time, not one after another: what
 * must happen before or after the app starts goes through `env` and `started`.
 */
export function useApiServer(options: ApiServerOptions = {}): ApiServer {
  const server = {} as ApiServer;
  let drop: (() => Promise<void>) | undefined;
  let child: ChildProcess | undefined;
  let worker: WorkerHandle | undefined;
  const cookies = new Map<As, string>();

  before(async () => {
    const extraEnv = typeof options.env === 'function' ? await options.env() : options.env;
    await ensureBuild();
    const database = await createTestDatabase();
    drop = database.drop;
    Object.assign(process.env, {
      DATABASE_URL: database.url,
      RXSAGA_RETRY_BASE_MS: '50',
      RXSAGA_HEARTBEAT_SECONDS: '1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      ...CREDENTIALS,
      ...extraEnv,
    });
    resetEnvForTests();
    logger.level = process.env.LOG_LEVEL ?? 'silent';
    server.db = getDb();
    await seedDemoCatalog(server.db);
    await ensureBootstrapAccounts(server.db, {
      admin: CREDENTIALS.RXSAGA_ADMIN_PASSWORD,
      viewer: CREDENTIALS.RXSAGA_VIEWER_PASSWORD,
    });
    await insertAccount(server.db, {
      username: ACCOUNTS.operator.username,
      role: 'operator',
      passwordHash: await hashPassword(ACCOUNTS.operator.password),
    });

    const port = await freePort();
    server.baseUrl = `http://127.0.0.1:${port}`;
    child = spawn(
      process.execPath,
      [...nextWebArgs(root), 'start', '-p', String(port), '-H', '127.0.0.1'],
      {
        cwd: root,
        env: {
          ...process.env,
          NODE_ENV: 'production',
          NEXT_TELEMETRY_DISABLED: '1',
          RXSAGA_PROCESS: 'web',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    await waitForHealth(server.baseUrl, child);
    if (options.worker !== false) worker = await startWorker();
    await options.started?.(server);
  });

  after(async () => {
    await worker?.stop();
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await closeDb();
    await drop?.();
  });

  server.request = async (urlPath, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const as = o.as ?? 'token';
    if (as === 'token') headers.authorization = `Bearer ${CREDENTIALS.RXSAGA_API_TOKEN}`;
    if (as === 'admin' || as === 'operator' || as === 'viewer')
      headers.cookie = await sessionCookie(as);
    let body: string | undefined = o.rawBody;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${server.baseUrl}${urlPath}`, {
      method: o.method ?? 'GET',
      headers,
      body,
      signal: o.signal,
      // A redirect is an answer of its own (the sign-on routes): the test sees it, not its target.
      redirect: 'manual',
    });
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.includes('json');
    return {
      status: response.status,
      body: isJson && text ? JSON.parse(text) : text,
      headers: response.headers,
    };
  };

  server.requestFrom = (localAddress, urlPath, o = {}) =>
    new Promise((resolve, reject) => {
      const body = o.body === undefined ? undefined : JSON.stringify(o.body);
      const url = new URL(urlPath, server.baseUrl);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          method: o.method ?? 'GET',
          localAddress,
          headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...o.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers))
              if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
            const isJson = headers.get('content-type')?.includes('json');
            resolve({
              status: res.statusCode ?? 0,
              body: isJson && text ? JSON.parse(text) : text,
              headers,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  server.signIn = async (username, password) => {
    const res = await fetch(`${server.baseUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
    const setCookie = res.headers.get('set-cookie') ?? '';
    return setCookie.split(';')[0]!;
  };

  async function sessionCookie(as: keyof typeof ACCOUNTS): Promise<string> {
    if (!cookies.has(as))
      cookies.set(as, await server.signIn(ACCOUNTS[as].username, ACCOUNTS[as].password));
    return cookies.get(as)!;
  }

  return server;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function waitForHealth(
  baseUrl: string,
  child: ChildProcess,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the app did not become healthy within ${timeoutMs} ms`);
}

/**
 * One build for every test file that needs it: test files run in parallel processes, so the
 * first takes a lock (a directory) and builds; the others wait for it and re-check.
 */
async function ensureBuild(): Promise<void> {
  const lock = path.join(root, '.next-build.lock');
  for (;;) {
    if (!buildReason(root)) return;
    try {
      mkdirSync(lock);
    } catch {
      if (lockHolderDead(lock)) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    try {
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      const reason = buildReason(root);
      if (!reason) return;
      console.error(`[api tests] building the app (${reason})…`);
      const code = await runNextBuild(root).done;
      if (code !== 0) throw new Error(`next build failed with exit code ${code}`);
      return;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

function lockHolderDead(lock: string): boolean {
  const pidFile = path.join(lock, 'pid');
  if (!existsSync(pidFile)) return false;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 0);
    return false;
  } catch {
    return true;
  }
}
