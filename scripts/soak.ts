import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { projectRoot } from '@/db/embedded';
import { migrate } from '@/db/migrate';
import { httpApi, type ApiResponse, type ChaosApi } from './chaos/api';
import {
  CHAOS_DB,
  WorkerFleet,
  ensureBuild,
  freePort,
  recreateDatabase,
  startEmbeddedDatabase,
  startWeb,
  waitForHttp,
  type ChaosDatabase,
  type ChaosProcess,
} from './chaos/cluster';
import { LoadDriver } from './chaos/load';
import { table } from './chaos/report';
import { makeRng, sleep } from './chaos/rng';
import { soakChart } from './soak/chart';
import { judgeSoak, percentile, type SoakSample } from './soak/verdict';
import { runDrill } from './lib/run-drill';

/**
 * `npm run soak -- --minutes N`: RxSaga under a steady load for a long while (docs/chaos.md,
 * "Soak"). The real processes (embedded PostgreSQL, `next start`, workers), orders through the
 * HTTP API at a steady rate with pauses, a live dashboard client (the SSE stream and the reads
 * the dashboard makes on each change), an operator retrying and cancelling. Every sample
 * interval: memory and event-loop delay of each process (reported by the process itself,
 * scripts/lib/process-probe.mjs), database connections, order p95. Fails when memory grows,
 * connections leak or p95 drifts (scripts/soak/verdict.ts); draws soak.svg beside the report.
 */

const HELP = `npm run soak -- [options]

  --minutes <n>         length of the load (default 60)
  --rate <n>            orders (sagas) per second while the load runs (default 20)
  --sample-seconds <n>  sampling interval (default 10)
  --workers <n>         worker processes (default 2)
  --concurrency <n>     WORKER_CONCURRENCY of each (default 4)
  --port <n>            web port on 127.0.0.1 (default 3937, or the next free one)
  --pg-port <n>         embedded PostgreSQL port (default 54367, or the next free one)
  --pg-data-dir <dir>   embedded cluster directory (default .data/soak-pg)
  --out <dir>           report, samples and chart (default .data/soak)
  --seed <n>            seed of the order mix
  --verbose             show worker and web output
Exit code 0 only when memory, connections and p95 all hold.`;

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      minutes: { type: 'string' },
      rate: { type: 'string' },
      'sample-seconds': { type: 'string' },
      workers: { type: 'string' },
      concurrency: { type: 'string' },
      port: { type: 'string' },
      'pg-port': { type: 'string' },
      'pg-data-dir': { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const num = (name: keyof typeof values, fallback: number, min: number, max: number) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new Error(`--${name}: expected a number from ${min} to ${max}, got "${String(raw)}"`);
    return n;
  };
  return {
    minutes: num('minutes', 60, 0.5, 24 * 60),
    rate: num('rate', 20, 0.5, 500),
    sampleSeconds: num('sample-seconds', 10, 1, 600),
    workers: Math.round(num('workers', 2, 1, 32)),
    concurrency: Math.round(num('concurrency', 4, 1, 64)),
    port: Math.round(num('port', 3937, 1024, 65535)),
    pgPort: Math.round(num('pg-port', 54367, 1024, 65535)),
    pgDataDir: path.resolve(projectRoot, String(values['pg-data-dir'] ?? '.data/soak-pg')),
    out: path.resolve(projectRoot, String(values.out ?? '.data/soak')),
    seed: Math.round(num('seed', Date.now() % 1_000_000, 0, 2 ** 31)),
    verbose: Boolean(values.verbose),
  };
}

const started = Date.now();
const log = (m: string) => {
  const s = Math.floor((Date.now() - started) / 1000);
  console.log(
    `[soak ${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${m}`,
  );
};

const running: {
  web?: ChaosProcess;
  fleet?: WorkerFleet;
  db?: ChaosDatabase;
  sql?: postgres.Sql;
  dashboard?: AbortController;
} = {};

/** The dashboard as a browser tab runs it: the live stream, and its reads after each change. */
function openDashboard(baseUrl: string, token: string, abort: AbortSignal) {
  const stats = {
    messages: 0,
    reads: 0,
    readErrors: 0,
    readTimeouts: 0,
    readsShed: 0,
    reconnects: 0,
  };
  const headers = { authorization: `Bearer ${token}` };
  let lastRead = 0;
  const refetch = async () => {
    if (Date.now() - lastRead < 1000) return;
    lastRead = Date.now();
    for (const p of ['/api/stats?window=1h', '/api/sagas?limit=25', '/api/interventions']) {
      const r = await fetch(baseUrl + p, { headers, signal: AbortSignal.timeout(15_000) }).catch(
        () => null,
      );
      stats.reads += 1;
      // No answer within the client's 15 s says the machine is overloaded (counted, shown); an
      // answer that is an error is the product failing the dashboard.
      // A 503 with Retry-After is the web shedding load (server/http/db-slots.ts): counted and
      // shown with the timeouts, not an error of the product.
      if (!r) stats.readTimeouts += 1;
      else if (r.status === 503 && r.headers.has('retry-after')) stats.readsShed += 1;
      else if (r.status !== 200) stats.readErrors += 1;
      await r?.arrayBuffer().catch(() => {});
    }
  };
  const done = (async () => {
    while (!abort.aborted) {
      try {
        const res = await fetch(`${baseUrl}/api/events/stream`, { headers, signal: abort });
        if (!res.body) throw new Error(`stream answered ${res.status}`);
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done: end } = await reader.read();
          if (end) break;
          buffer += decoder.decode(value, { stream: true });
          let i;
          while ((i = buffer.indexOf('\n\n')) >= 0) {
            const message = buffer.slice(0, i);
            buffer = buffer.slice(i + 2);
            if (/^event: /m.test(message)) {
              stats.messages += 1;
              void refetch();
            }
          }
        }
      } catch {
        /* aborted, or the stream dropped: reconnect like EventSource does */
      }
      if (!abort.aborted) {
        stats.reconnects += 1;
        await sleep(2000);
      }
    }
  })();
  return { stats, done };
}

interface ProbeFigures {
  pid: number;
  name: string | null;
  at: number;
  rssBytes: number;
  loopDelayP99Ms: number;
}

function readProbes(dir: string, freshMs: number): ProbeFigures[] {
  const now = Date.now();
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      try {
        const p = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as ProbeFigures;
        return now - p.at < freshMs ? [p] : [];
      } catch {
        return [];
      }
    });
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  process.env.LOG_LEVEL ??= 'warn';
  const durationS = o.minutes * 60;
  log(
    `${o.minutes} min at ${o.rate} orders/s, ${o.workers} workers × ${o.concurrency}, a sample every ${o.sampleSeconds} s`,
  );
  await fs.rm(o.out, { recursive: true, force: true });
  const probeDir = path.join(o.out, 'probes');
  const logDir = path.join(o.out, 'logs');
  await fs.mkdir(probeDir, { recursive: true });
  await fs.mkdir(logDir, { recursive: true });

  const db = await startEmbeddedDatabase(o.pgDataDir, await freePort(o.pgPort), log);
  running.db = db;
  await recreateDatabase(db.adminUrl, CHAOS_DB);
  await migrate(db.url);
  const { connect } = await import('@/db/client');
  const { seedDemoCatalog } = await import('@/db/seed');
  const seeding = connect(db.url, 1);
  await seedDemoCatalog(seeding.db);
  await seeding.sql.end({ timeout: 5 });
  const sql = postgres(db.url, {
    max: 2,
    onnotice: () => {},
    connection: { application_name: 'rxsaga-soak' },
  });
  running.sql = sql;
  // An hour at 20/s reserves a few hundred thousand units: stock that never runs out keeps the
  // saga mix the same from the first minute to the last.
  await sql`update inventory_items set on_hand = 100000000`;

  const token = randomBytes(24).toString('hex');
  const probe = (name: string) =>
    `--import=${pathToFileURL(path.join(projectRoot, 'scripts/lib/process-probe.mjs')).href}?out=${encodeURIComponent(path.join(probeDir, name))}&everyMs=${Math.min(5000, (o.sampleSeconds * 1000) / 2)}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    RXSAGA_API_TOKEN: token,
    RXSAGA_ADMIN_PASSWORD: randomBytes(12).toString('hex'),
    LOG_LEVEL: process.env.LOG_LEVEL,
    WORKER_CONCURRENCY: String(o.concurrency),
  };
  await ensureBuild(log);
  const port = await freePort(o.port);
  const web = startWeb(port, { ...env, NODE_OPTIONS: probe('web') }, logDir, o.verbose);
  running.web = web;
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/api/health`, 120_000, () => !web.running);
  const fleet = new WorkerFleet(o.workers, env, logDir, o.verbose, log, (name) => ({
    NODE_OPTIONS: probe(name),
  }));
  running.fleet = fleet;
  fleet.start();
  for (const deadline = Date.now() + 60_000; ; await sleep(300)) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from worker_heartbeats`;
    if ((row?.n ?? 0) >= o.workers) break;
    if (Date.now() > deadline) throw new Error(`workers did not start within 60 s; see ${logDir}`);
  }
  log(`web on ${base}, ${o.workers} workers up; the dashboard opens and the load starts`);

  // Every order request timed: the p95 of each sample window.
  let latencies: number[] = [];
  let confirmed = 0;
  const http = httpApi(base, token);
  const api: ChaosApi = {
    ...http,
    createOrder: async (body, key) => {
      const t = performance.now();
      const r: ApiResponse = await http.createOrder(body, key);
      latencies.push(performance.now() - t);
      if (r.status === 201) confirmed += 1;
      return r;
    },
  };
  const dashboardAbort = new AbortController();
  running.dashboard = dashboardAbort;
  const dashboard = openDashboard(base, token, dashboardAbort.signal);

  // Pauses of the load: at 40 % and 65 % of the run (after the baseline window), each a
  // thirtieth of it (8–60 s).
  const pauseS = Math.max(8, Math.min(60, durationS / 30));
  const pauses = [0.4, 0.65].map((f) => ({ from: durationS * f, to: durationS * f + pauseS }));
  const t0 = Date.now();
  const elapsed = () => (Date.now() - t0) / 1000;
  const drivers: LoadDriver[] = [];
  let paused = false;
  const load = (async () => {
    let segment = 0;
    for (const p of [...pauses, { from: durationS, to: durationS }]) {
      const driver = new LoadDriver(api, makeRng(o.seed + segment), o.seed * 10 + segment, false);
      drivers.push(driver);
      segment += 1;
      paused = false;
      const running_ = driver.run(o.rate);
      await sleep(Math.max(0, (p.from - elapsed()) * 1000));
      driver.stop();
      await running_;
      if (p.to > p.from) {
        paused = true;
        log(`load paused for ${pauseS.toFixed(0)} s`);
        await sleep(Math.max(0, (p.to - elapsed()) * 1000));
        log('load resumed');
      }
    }
  })();

  // The operator: every few seconds, resolves a flagged saga and cancels one in flight.
  const operator = { retries: 0, cancels: 0, refused: 0 };
  let over = false;
  const operating = (async () => {
    const rng = makeRng(o.seed ^ 0x0b5);
    while (!over) {
      await sleep(3000);
      const rows = await sql<{ saga_id: string; state: string; needs_intervention: boolean }[]>`
        (select saga_id, state, needs_intervention from order_fulfillment_sagas where needs_intervention limit 2)
        union all
        (select saga_id, state, needs_intervention from order_fulfillment_sagas where state like 'PENDING_%' and not needs_intervention limit 1)`.catch(
        () => [],
      );
      for (const s of rows) {
        const cancel = !s.needs_intervention || (s.state.startsWith('PENDING_') && rng.chance(0.5));
        const r = cancel
          ? await http.cancel(s.saga_id, 'soak: operator cancels')
          : await http.retry(s.saga_id, 'soak: operator retries');
        if (cancel) operator.cancels += 1;
        else operator.retries += 1;
        if (r.status !== 202) operator.refused += 1;
      }
    }
  })();

  const samples: SoakSample[] = [];
  const sampling = (async () => {
    for (let k = 1; k * o.sampleSeconds <= durationS + 1e-9; k++) {
      await sleep(Math.max(0, t0 + k * o.sampleSeconds * 1000 - Date.now()));
      const probes = readProbes(probeDir, Math.max(8000, o.sampleSeconds * 1500));
      const [conn] = await sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where datname = ${CHAOS_DB} and application_name <> 'rxsaga-soak'`;
      const window = latencies;
      latencies = [];
      const sample: SoakSample = {
        t: k * o.sampleSeconds,
        rssBytes: probes.reduce((n, p) => n + p.rssBytes, 0),
        loopDelayP99Ms: Math.max(0, ...probes.map((p) => p.loopDelayP99Ms)),
        connections: conn?.n ?? 0,
        p95Ms: window.length >= 5 ? percentile(window, 95) : null,
        orders: confirmed,
        paused,
      };
      confirmed = 0;
      samples.push(sample);
      log(
        `${sample.t.toFixed(0)} s: RSS ${(sample.rssBytes / 2 ** 20).toFixed(0)} MB (${probes.length} processes), loop p99 ${sample.loopDelayP99Ms.toFixed(0)} ms, ${sample.connections} connections, p95 ${sample.p95Ms === null ? '-' : `${sample.p95Ms.toFixed(0)} ms`}, ${sample.orders} orders${paused ? ' (paused)' : ''}; dashboard ${dashboard.stats.messages} messages, ${dashboard.stats.reads} reads`,
      );
    }
  })();

  await Promise.all([load, sampling]);
  over = true;
  await operating;
  for (const d of drivers) await d.drain();
  dashboardAbort.abort();
  await dashboard.done;
  const [left] = await sql<{ open: number; flagged: number }[]>`
    select count(*) filter (where not saga_state_is_terminal(state))::int as open,
      count(*) filter (where needs_intervention)::int as flagged from order_fulfillment_sagas`;
  const exits = await fleet.stopAll();
  await web.stop();
  running.fleet = undefined;
  running.web = undefined;

  const verdict = judgeSoak(samples, durationS, o.sampleSeconds);
  const orders = drivers.reduce((n, d) => n + d.orders.length, 0);
  const unconfirmed = drivers.reduce((n, d) => n + d.stats.unconfirmed, 0);
  const checks = [
    ...verdict.checks,
    {
      name: 'every order confirmed; the dashboard stream stayed open and no read answered an error',
      ok: unconfirmed === 0 && dashboard.stats.readErrors === 0 && dashboard.stats.messages > 0,
      detail: `${orders} orders, ${unconfirmed} unconfirmed; ${dashboard.stats.messages} live messages, ${dashboard.stats.reads} reads (${dashboard.stats.readErrors} answered an error, ${dashboard.stats.readTimeouts} not answered within 15 s, ${dashboard.stats.readsShed} shed with 503 + Retry-After), ${dashboard.stats.reconnects} reconnects`,
    },
    {
      name: 'workers ran the whole soak (no exit on their own) and stopped cleanly',
      ok: fleet.unexpectedExits.length === 0 && exits.every((e) => e.code === 0),
      detail: `${fleet.unexpectedExits.length} exits on their own; final exit codes ${exits.map((e) => e.code).join(', ')}`,
    },
  ];
  const title = `RxSaga soak — ${o.minutes} min at ${o.rate} orders/s, ${o.workers} workers × ${o.concurrency}, seed ${o.seed}`;
  const svg = soakChart(samples, verdict, durationS, title, pauses);
  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  const report = [
    `## ${title}`,
    '',
    `Windows (scaled to the run, scripts/soak/verdict.ts): warm-up until ${verdict.windows.warmupEnd.toFixed(0)} s, baseline until ${verdict.windows.baselineEnd.toFixed(0)} s, judged after ${verdict.windows.finalStart.toFixed(0)} s. Load paused ${pauses.map((p) => `${p.from.toFixed(0)}–${p.to.toFixed(0)} s`).join(', ')}. Operator: ${operator.retries} retries, ${operator.cancels} cancels (${operator.refused} refused as raced). At the end ${left?.open ?? '?'} sagas open, ${left?.flagged ?? '?'} flagged.`,
    '',
    '### Checks',
    '',
    table(
      ['check', 'result', 'details'],
      checks.map((c) => [c.name, c.ok ? 'PASS' : 'FAIL', c.detail]),
    ),
    '',
    '### Samples',
    '',
    table(
      ['t (s)', 'RSS (MB)', 'loop p99 (ms)', 'connections', 'order p95 (ms)', 'orders', 'load'],
      samples.map((s) => [
        s.t.toFixed(0),
        mb(s.rssBytes),
        s.loopDelayP99Ms.toFixed(1),
        s.connections,
        s.p95Ms === null ? '-' : s.p95Ms.toFixed(0),
        s.orders,
        s.paused ? 'paused' : 'on',
      ]),
    ),
    '',
    `Chart: soak.svg beside this report.`,
  ].join('\n');
  await fs.writeFile(path.join(o.out, 'soak.svg'), svg);
  await fs.writeFile(path.join(o.out, 'soak-report.md'), report + '\n');
  await fs.writeFile(
    path.join(o.out, 'soak.json'),
    JSON.stringify(
      { options: o, samples, verdict, checks, dashboard: dashboard.stats, operator },
      null,
      2,
    ),
  );
  console.log(`\n${report}\n`);
  const failed = checks.filter((c) => !c.ok);
  console.log(
    failed.length === 0
      ? `PASS: all ${checks.length} soak checks hold`
      : `FAIL: ${failed.length} of ${checks.length} soak checks failed`,
  );
  console.log(
    `report, samples and chart: ${path.relative(process.cwd(), o.out)}/ (soak-report.md, soak.json, soak.svg)`,
  );
  await sql.end({ timeout: 5 });
  running.sql = undefined;
  await db.stop();
  running.db = undefined;
  return failed.length === 0 ? 0 : 1;
}

async function emergencyCleanup(): Promise<void> {
  running.dashboard?.abort();
  await Promise.allSettled([running.fleet?.stopAll(), running.web?.stop(5000)]);
  await running.sql?.end({ timeout: 2 }).catch(() => {});
  await running.db?.stop().catch(() => {});
}

runDrill('soak', main, emergencyCleanup, log);
