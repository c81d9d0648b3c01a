import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type postgres from 'postgres';
import { projectRoot } from '@/db/embedded';
import { buildReason, nextWebArgs, runNextBuild } from '../lib/build';
import { localTcpPorts, treePids, treeRssMb } from './cpu';

/**
 * The real web app (`next start` on its production build) next to the bench's workers, and one
 * open dashboard against it, so the memory figure is "web + worker while draining" as the
 * issue states it. The web gets random credentials of its own; the dashboard uses its API token.
 */

const DEFAULT_PORT = 3199; // not 3100: the e2e tests' port
const STOP_TIMEOUT_MS = 10_000;

export class WebBuildError extends Error {}

let building: { kill: () => void } | undefined;
let interrupted = false;
const running = new Set<WebServer>();
/** Open dashboards: closed before their web is stopped, which waits for open connections. */
const dashboards = new Set<Dashboard>();

/** `next build` when there is no build or its sources changed since, as `npm start` decides. */
export async function ensureWebBuild(log: (m: string) => void): Promise<void> {
  const reason = buildReason(projectRoot);
  if (!reason || interrupted) return;
  log(`building the web app (${reason}); this takes a minute or two`);
  const build = runNextBuild(projectRoot);
  building = build;
  const code = await build.done.finally(() => (building = undefined));
  if (interrupted) throw new WebBuildError('next build interrupted');
  if (code !== 0)
    throw new WebBuildError(
      `next build failed (exit code ${code}): the memory figure needs the web app's production build; ` +
        'fix the build, or pass --no-web to bench without the web app',
    );
}

/** Ctrl-C: aborts a running build, closes the dashboards and stops every web process still up. */
export async function stopWebProcesses(): Promise<void> {
  interrupted = true;
  building?.kill();
  await Promise.all([...dashboards].map((dashboard) => dashboard.stop()));
  await Promise.all([...running].map((web) => web.stop()));
}

export interface WebServer {
  pid: number;
  baseUrl: string;
  /** Its RXSAGA_API_TOKEN (operator), for `Authorization: Bearer`. */
  token: string;
  /** RSS (MiB) of `next start` and every process under it, now. */
  rssMb: () => number;
  /** SIGTERM, SIGKILL (the whole tree) after 10 s; resolves once it is gone. */
  stop: () => Promise<void>;
}

const secret = (bytes: number) => randomBytes(bytes).toString('hex');

export async function startWeb(o: {
  databaseUrl: string;
  port?: number;
  timeoutMs?: number;
}): Promise<WebServer> {
  const port = await freePort(o.port ?? DEFAULT_PORT);
  const token = secret(16); // 32 characters
  // Like `npm start`'s children: the web stops itself if the bench dies without stopping it.
  const preload = pathToFileURL(path.join(projectRoot, 'scripts/lib/exit-with-parent.mjs')).href;
  const child = spawn(
    process.execPath,
    [
      '--import',
      preload,
      ...nextWebArgs(projectRoot),
      'start',
      '-p',
      String(port),
      '-H',
      '127.0.0.1',
    ],
    {
      cwd: projectRoot,
      env: {
        ...process.env,
        DATABASE_URL: o.databaseUrl,
        PORT: String(port),
        RXSAGA_API_TOKEN: token,
        RXSAGA_ADMIN_PASSWORD: secret(12), // 24 characters (8..72)
        RXSAGA_VIEWER_PASSWORD: secret(12),
        RXSAGA_PROCESS: 'bench-web',
        NEXT_TELEMETRY_DISABLED: '1',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 50) output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const gone = () => child.exitCode !== null || child.signalCode !== null || !!spawnError;

  const baseUrl = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  const web: WebServer = {
    pid: child.pid ?? -1,
    baseUrl,
    token,
    rssMb: () => (child.pid && !gone() ? treeRssMb([child.pid]) : 0),
    stop: () => (stopped ??= stop(child, exited, gone).finally(() => running.delete(web))),
  };
  running.add(web);

  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  for (;;) {
    if (gone() || Date.now() > deadline) {
      const why = spawnError
        ? `could not be started (${spawnError.message})`
        : gone()
          ? `exited (${child.exitCode ?? child.signalCode})`
          : `did not answer 200 on /api/health within ${(o.timeoutMs ?? 60_000) / 1000} s`;
      await web.stop();
      throw new Error(`web app (next start -p ${port}) ${why}:\n${output.join('')}`);
    }
    try {
      if ((await get(`${baseUrl}/api/health`, {}, 3000)).status === 200) return web;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
}

async function stop(child: ChildProcess, exited: Promise<void>, gone: () => boolean) {
  if (!child.pid || gone()) return;
  const killer = setTimeout(() => {
    // A tree that ignores SIGTERM: nothing of it may outlive the bench.
    for (const pid of treePids([child.pid!]).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }, STOP_TIMEOUT_MS);
  child.kill('SIGTERM');
  await exited;
  clearTimeout(killer);
}

/**
 * The pids of the PostgreSQL backends serving the web app's connections (its pool and the event
 * stream's LISTEN), matched on client port: their CPU is the dashboard's, not the sagas'. Only
 * meaningful for a server on this machine.
 */
export async function webBackendPids(web: WebServer, sql: postgres.Sql): Promise<number[]> {
  const ports = localTcpPorts(treePids([web.pid]));
  if (ports.length === 0) return [];
  const rows = await sql<{ pid: number }[]>`
    select pid from pg_stat_activity
    where client_port = any(${ports}::int[])
      and (client_addr <<= '127.0.0.0/8'::inet or client_addr = '::1'::inet)`;
  return rows.map((r) => r.pid);
}

export interface DashboardSummary {
  requests: number;
  failures: number;
  /** The first few failures, for the report. */
  problems: string[];
}

export interface Dashboard {
  stop: () => Promise<DashboardSummary>;
}

const DASHBOARD_POLLS = ['/api/stats?window=1h', '/api/sagas?limit=50', '/api/interventions'];

/**
 * One open dashboard: its live connection (`/api/events/stream`, read and discarded) and the
 * reads it refreshes, every `everyMs`. Resolves once the event stream answered, so it is open
 * for the whole run; every non-200 answer, error or early end of the stream is a failure.
 */
export async function openDashboard(web: WebServer, everyMs = 2000): Promise<Dashboard> {
  const headers = { authorization: `Bearer ${web.token}` };
  const summary: DashboardSummary = { requests: 0, failures: 0, problems: [] };
  const fail = (what: string) => {
    summary.failures++;
    if (summary.problems.length < 5) summary.problems.push(what);
  };
  const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
  let stopping = false;

  // The live connection, held open for the run, its messages read and discarded.
  summary.requests++;
  const stream = http.get(`${web.baseUrl}/api/events/stream`, {
    headers: { ...headers, accept: 'text/event-stream' },
    agent: false,
  });
  stream.on('error', () => {}); // reported through the response or the promise below
  const connectTimer = setTimeout(() => stream.destroy(new Error('no answer within 10 s')), 10_000);
  let reading: Promise<void> = Promise.resolve();
  try {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('error', reject);
    });
    if (res.statusCode !== 200) {
      fail(`GET /api/events/stream: HTTP ${res.statusCode} ${(await readBody(res)).slice(0, 200)}`);
    } else {
      let error: Error | undefined;
      res.on('error', (err) => (error = err));
      res.resume();
      reading = new Promise((resolve) =>
        res.once('close', () => {
          if (!stopping)
            fail(
              `GET /api/events/stream: the stream ended during the run${error ? ` (${error.message})` : ''}`,
            );
          resolve();
        }),
      );
    }
  } catch (err) {
    fail(`GET /api/events/stream: ${message(err)}`);
  } finally {
    clearTimeout(connectTimer);
  }

  const poll = async (url: string) => {
    summary.requests++;
    try {
      const res = await get(`${web.baseUrl}${url}`, headers, 10_000);
      if (res.status !== 200) fail(`GET ${url}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    } catch (err) {
      fail(`GET ${url}: ${message(err)}`);
    }
  };
  let wake = () => {};
  const polling = (async () => {
    while (!stopping) {
      const started = Date.now();
      await Promise.all(DASHBOARD_POLLS.map(poll));
      const wait = everyMs - (Date.now() - started);
      if (wait > 0 && !stopping)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
    }
  })();

  let stopped: Promise<DashboardSummary> | undefined;
  const dashboard: Dashboard = {
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        wake();
        await polling;
        stream.destroy();
        await reading;
        dashboards.delete(dashboard);
        return summary;
      })()),
  };
  dashboards.add(dashboard);
  return dashboard;
}

/**
 * A GET on a connection of its own, closed after the answer: no keep-alive connection of ours
 * makes `next start` wait when it is told to stop.
 */
function get(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false, timeout: timeoutMs }, (res) =>
      readBody(res).then((body) => resolve({ status: res.statusCode ?? 0, body }), reject),
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
  });
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    res.on('end', () => resolve(body));
    res.on('error', reject);
  });
}

/** `preferred` if nothing listens on it at 127.0.0.1, else the next free port above it. */
async function freePort(preferred: number): Promise<number> {
  for (let port = preferred; port < preferred + 100; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port from ${preferred}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
