import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before } from 'node:test';
import { closeDb, getDb, type Database } from '@/db/client';
import { seedDemoCatalog } from '@/db/seed';
import { startWorker, type WorkerHandle } from '@/jobs/worker';
import { resetEnvForTests } from '@/lib/env';
import { logger } from '@/lib/logger';
import { buildReason, nextBin, runNextBuild } from '@/scripts/lib/build';
import { createTestDatabase } from './db';

/**
 * The real app over real HTTP: `next start` on a free port against a fresh test database,
 * plus an in-process worker, so API tests exercise routing, headers, cookies and the error
 * model exactly as clients see them. Builds first when there is no build or it is stale.
 */

const root = path.resolve(import.meta.dirname, '..');

export const CREDENTIALS = {
  RXSAGA_API_TOKEN: 'test-api-token-0123456789abcdef',
  RXSAGA_ADMIN_PASSWORD: 'operator-password-1',
  RXSAGA_VIEWER_PASSWORD: 'viewer-password-1',
  RXSAGA_SESSION_SECRET: 'test-session-secret-0123456789abcdefghijklmnop',
};

export type As = 'token' | 'operator' | 'viewer' | 'anonymous';

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
}

export interface ApiServer {
  db: Database;
  baseUrl: string;
  request: <T = Json>(path: string, options?: RequestOptions) => Promise<ApiResponse<T>>;
  /** Signs in with a password through POST /api/session and returns the cookie. */
  signIn: (password: string, name?: string) => Promise<string>;
}

export function useApiServer(
  options: { worker?: boolean; env?: Record<string, string> } = {},
): ApiServer {
  const server = {} as ApiServer;
  let drop: (() => Promise<void>) | undefined;
  let child: ChildProcess | undefined;
  let worker: WorkerHandle | undefined;
  const cookies = new Map<As, string>();

  before(async () => {
    await ensureBuild();
    const database = await createTestDatabase();
    drop = database.drop;
    Object.assign(process.env, {
      DATABASE_URL: database.url,
      RXSAGA_RETRY_BASE_MS: '50',
      RXSAGA_HEARTBEAT_SECONDS: '1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      ...CREDENTIALS,
      ...options.env,
    });
    resetEnvForTests();
    logger.level = process.env.LOG_LEVEL ?? 'silent';
    server.db = getDb();
    await seedDemoCatalog(server.db);

    const port = await freePort();
    server.baseUrl = `http://127.0.0.1:${port}`;
    child = spawn(
      process.execPath,
      [nextBin(root), 'start', '-p', String(port), '-H', '127.0.0.1'],
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
    if (as === 'operator' || as === 'viewer') headers.cookie = await sessionCookie(as);
    let body: string | undefined = o.rawBody;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${server.baseUrl}${urlPath}`, {
      method: o.method ?? 'GET',
      headers,
      body,
    });
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.includes('json');
    return {
      status: response.status,
      body: isJson && text ? JSON.parse(text) : text,
      headers: response.headers,
    };
  };

  server.signIn = async (password, name) => {
    const res = await fetch(`${server.baseUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password, name }),
    });
    if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
    const setCookie = res.headers.get('set-cookie') ?? '';
    return setCookie.split(';')[0]!;
  };

  async function sessionCookie(as: 'operator' | 'viewer'): Promise<string> {
    if (!cookies.has(as)) {
      const password =
        as === 'operator' ? CREDENTIALS.RXSAGA_ADMIN_PASSWORD : CREDENTIALS.RXSAGA_VIEWER_PASSWORD;
      cookies.set(as, await server.signIn(password, `${as}-tester`));
    }
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
