import os from 'node:os';
import type postgres from 'postgres';
import { connect } from '@/db/client';
import { createOrder } from '@/server/commands/create-order';
import { CpuMeter, MachineCpuMeter, postmasterPid } from './cpu';
import { isDurable, resetForRun } from './database';
import { runFloor } from './floor';
import { makeOrders, type BenchOrder, type Outcome } from './orders';
import { progressBar as bar_ } from '../lib/progress';
import { round, summarize } from './report';
import { verifyRun, type Correctness } from './verify';
import { emptyCounts, installWireCounter, wireCounts, type WireCounts } from './wire-counter';
import {
  ensureWebBuild,
  openDashboard,
  startWeb,
  webBackendPids,
  type Dashboard,
  type DashboardSummary,
} from './web';
import { startWorkers, type WorkerProcesses } from './workers';

export interface SagaBenchOptions {
  url: string;
  admin: postgres.Sql;
  settings: Record<string, string>;
  dataDirectory: string;
  sagas: number;
  /** Worker process counts to drain with; [1, 2] gives the scale-out ratio. */
  workerCounts: number[];
  /** WORKER_CONCURRENCY for each worker process; undefined: the app default. */
  concurrency?: number;
  mix: boolean;
  floor: boolean;
  drain: boolean;
  /** Offered sagas per second for the latency run; 0 skips it. */
  rate: number;
  rateSeconds: number;
  floorConcurrency: number;
  /**
   * After the throughput runs, one more drain with 1 worker beside the web app (`next start`,
   * built first when needed) and one open dashboard against it: the "web + one worker while
   * draining" memory figure. The throughput runs go without it, like the floor: on 2 cores the
   * web's CPU would otherwise move the ratios.
   */
  web: boolean;
  /** Extra environment for the worker processes. */
  workerEnv?: Record<string, string>;
  /**
   * After the drains, one more drain with 1 worker whose tasks go through group commit of this
   * size (RXSAGA_GROUP_COMMIT, jobs/run-saga-task.ts): its own run, left out of the headline.
   */
  groupCommit?: number;
  log: (m: string) => void;
  /** Progress bars on stderr (default true). */
  progress?: boolean;
}

export interface RunResult {
  mode: 'floor' | 'drain' | 'rate' | 'memory';
  workers: number;
  concurrency: number | null;
  sagas: number;
  seconds: number;
  sagasPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuMsPerSaga: number;
  cpuMs: Record<string, number>;
  /** How busy the whole machine's CPUs were during the run, in % (everything on the host). */
  machineCpuPct: number;
  /** Peak RSS of one worker process. */
  peakWorkerRssMb: number | null;
  /**
   * What was sent to PostgreSQL for the run's sagas (wire-counter.ts): createOrder's
   * connection plus every worker process (graphile-worker's own queries included), or the
   * floor's connection. Counts, not timings: they do not move with the machine's load.
   */
  wire: WireFigures | null;
  /** Peak RSS of the web app's process tree (runs with the web only). */
  webRssMb: number | null;
  /** Peak of web tree + the largest worker, sampled at the same moment (runs with the web only). */
  webPlusWorkerRssMb: number | null;
  offeredPerSecond?: number;
  correctness: Correctness;
}

export interface WireFigures {
  /** Statements per saga, transaction control (BEGIN/COMMIT/ROLLBACK) not included. */
  statementsPerSaga: number;
  transactionControlPerSaga: number;
  roundTripsPerSaga: number;
  /** Tasks run (steps and compensations, retries included; for the floor: its steps). */
  tasks: number;
  /** Round trips of the workers per task they ran (the floor: per step, the create included). */
  roundTripsPerTask: number | null;
}

export interface SagaBenchResult {
  machine: Record<string, unknown>;
  floor: RunResult | null;
  drains: RunResult[];
  /** The drain with group commit (SagaBenchOptions.groupCommit), and its ratio to the floor. */
  groupCommit: (RunResult & { groupCommit: number; ratioToFloor: number | null }) | null;
  rate: RunResult | null;
  sagasPerSecond: number | null;
  floorSagasPerSecond: number | null;
  ratioToFloor: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  cpuMsPerSaga: number | null;
  /** The drain with 1 worker beside the web app and an open dashboard (SagaBenchOptions.web). */
  memory: RunResult | null;
  /** The memory headline: that run's peak web RSS and web + worker RSS. */
  webRssMb: number | null;
  webPlusWorkerRssMb: number | null;
  /**
   * Throughput of the most workers over 1 worker, with how busy the machine's CPUs were in each
   * of the two drains: a second worker can only add what the machine has left.
   */
  scaleOut: {
    workers: number;
    ratio: number;
    machineCpuPct: { oneWorker: number; workers: number };
  } | null;
  headlineWorkers: number | null;
  correct: boolean;
}

const settledSql = (sql: postgres.Sql, prefix: string) => sql<
  { total: number; open: number; stuck: number }[]
>`
  select count(*)::int as total,
    count(*) filter (where not saga_state_is_terminal(state) and not needs_intervention)::int as open,
    count(*) filter (where needs_intervention)::int as stuck
  from order_fulfillment_sagas where order_id like ${`${prefix}%`}`;

/** Throughput and latency from the saga rows themselves (database clock, start to finish). */
async function timingsFromRows(sql: postgres.Sql, prefix: string) {
  const rows = await sql<{ ms: number }[]>`
    select extract(epoch from (completed_at - started_at)) * 1000 as ms
    from order_fulfillment_sagas where order_id like ${`${prefix}%`} and state = 'COMPLETED'`;
  const [span] = await sql<{ seconds: number; n: number }[]>`
    select extract(epoch from (max(coalesce(completed_at, updated_at)) - min(started_at)))::float8 as seconds, count(*)::int as n
    from order_fulfillment_sagas where order_id like ${`${prefix}%`}`;
  return { latencies: rows.map((r) => Number(r.ms)), seconds: Number(span!.seconds), n: span!.n };
}

export async function runSagaBench(o: SagaBenchOptions): Promise<SagaBenchResult> {
  quiet = o.progress === false;
  const pgPid = postmasterPid(o.dataDirectory);
  if (!pgPid) o.log('PostgreSQL runs elsewhere (not readable under /proc): its CPU is not counted');
  if (!isDurable(o.settings))
    o.log(
      `WARNING: not durable (fsync=${o.settings.fsync}, synchronous_commit=${o.settings.synchronous_commit})`,
    );
  // Once, before any run: a missing or stale build fails here rather than mid-bench.
  if (o.web && o.drain) await ensureWebBuild(o.log);
  installWireCounter(Number(new URL(o.url).port || 5432));
  const app = connect(o.url, 8);
  const result: SagaBenchResult = {
    machine: machine(o.settings),
    floor: null,
    drains: [],
    groupCommit: null,
    rate: null,
    memory: null,
    sagasPerSecond: null,
    floorSagasPerSecond: null,
    ratioToFloor: null,
    p50Ms: null,
    p95Ms: null,
    p99Ms: null,
    cpuMsPerSaga: null,
    webRssMb: null,
    webPlusWorkerRssMb: null,
    scaleOut: null,
    headlineWorkers: null,
    correct: true,
  };
  try {
    if (o.floor) {
      await resetForRun(o.admin);
      const orders = makeOrders(o.sagas, { mix: false, prefix: 'FLOOR', seed: 7 });
      const bar = progressBar(`floor   (${o.floorConcurrency} in flight)`, orders.length);
      const client = process.cpuUsage();
      const meter = new CpuMeter({ postgres: () => (pgPid ? [pgPid] : []) });
      const sql = (await import('postgres')).default(o.url, {
        max: o.floorConcurrency,
        onnotice: () => {},
        connection: { application_name: FLOOR_APPLICATION },
      });
      const wireBefore = appCounts(FLOOR_APPLICATION);
      const machineCpu = new MachineCpuMeter();
      meter.begin();
      machineCpu.begin();
      await runFloor(sql, orders, o.floorConcurrency, (n) => bar.update(n));
      const cpu = { ...meter.end(), client: cpuMs(process.cpuUsage(client)) };
      const floorWire = diffCounts(appCounts(FLOOR_APPLICATION), wireBefore);
      const machineCpuPct = machineCpu.end();
      await sql.end({ timeout: 5 });
      const t = await timingsFromRows(o.admin, 'FLOOR');
      const expected = new Map(
        orders.map((x) => [`${x.input.orderId}-floor`, 'completed' as Outcome]),
      );
      const correctness = await verifyRun(o.admin, expected);
      result.floor = toResult(
        'floor',
        0,
        o.floorConcurrency,
        t,
        cpu,
        machineCpuPct,
        ['postgres'],
        NO_MEMORY,
        correctness,
        wireFigures(floorWire, orders.length, orders.length * 4, floorWire.roundTrips),
      );
      bar.done(`${round(result.floor.sagasPerSecond)} sagas/s`);
    }

    // Every order at once, drained by `workers` worker processes (and the web app beside them).
    const drain = async (workers: number, prefix: string, seed: number, withWeb: boolean) => {
      await resetForRun(o.admin);
      const orders = makeOrders(o.sagas, { mix: o.mix, prefix, seed });
      return runWithWorkers(o, app.db, pgPid, workers, prefix, orders, drainAll(orders), withWeb);
    };

    if (o.drain) {
      for (const workers of o.workerCounts) {
        result.drains.push({
          ...(await drain(workers, `DRAIN${workers}`, 11, false)),
          mode: 'drain',
        });
      }
    }

    if (o.drain && o.groupCommit && o.groupCommit > 1) {
      await resetForRun(o.admin);
      const prefix = 'GROUP';
      const orders = makeOrders(o.sagas, { mix: o.mix, prefix, seed: 19 });
      const size = o.groupCommit;
      const run = await runWithWorkers(
        { ...o, workerEnv: { ...o.workerEnv, RXSAGA_GROUP_COMMIT: String(size) } },
        app.db,
        pgPid,
        1,
        prefix,
        orders,
        drainAll(orders),
        false,
      );
      result.groupCommit = { ...run, mode: 'drain', groupCommit: size, ratioToFloor: null };
    }

    if (o.rate > 0) {
      await resetForRun(o.admin);
      const prefix = 'RATE';
      const orders = makeOrders(Math.max(1, Math.round(o.rate * o.rateSeconds)), {
        mix: o.mix,
        prefix,
        seed: 13,
      });
      const workers = o.workerCounts[0] ?? 1;
      const run = await runWithWorkers(
        o,
        app.db,
        pgPid,
        workers,
        prefix,
        orders,
        async (create) => {
          // Open loop: each order starts at its scheduled time, whether or not earlier ones finished.
          const start = performance.now();
          const pending: Promise<void>[] = [];
          for (let i = 0; i < orders.length; i++) {
            const wait = start + (i * 1000) / o.rate - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            pending.push(create(orders[i]!));
          }
          await Promise.all(pending);
        },
        false,
      );
      result.rate = { ...run, mode: 'rate', offeredPerSecond: o.rate };
    }

    // Last, so the web's CPU touches none of the runs above.
    if (o.drain && o.web)
      result.memory = { ...(await drain(1, 'MEMORY', 17, true)), mode: 'memory' };
  } finally {
    await app.sql.end({ timeout: 5 });
  }

  const best = [...result.drains].sort((a, b) => b.sagasPerSecond - a.sagasPerSecond)[0];
  if (best) {
    result.sagasPerSecond = best.sagasPerSecond;
    result.cpuMsPerSaga = best.cpuMsPerSaga;
    result.headlineWorkers = best.workers;
  }
  if (result.floor) result.floorSagasPerSecond = result.floor.sagasPerSecond;
  if (best && result.floor)
    result.ratioToFloor = round(best.sagasPerSecond / result.floor.sagasPerSecond, 3);
  const latency = result.rate ?? best;
  if (latency)
    Object.assign(result, { p50Ms: latency.p50Ms, p95Ms: latency.p95Ms, p99Ms: latency.p99Ms });
  const one = result.drains.find((d) => d.workers === 1);
  if (result.memory) {
    result.webRssMb = result.memory.webRssMb;
    result.webPlusWorkerRssMb = result.memory.webPlusWorkerRssMb;
  }
  const more = result.drains.filter((d) => d.workers > 1).sort((a, b) => b.workers - a.workers)[0];
  if (one && more)
    result.scaleOut = {
      workers: more.workers,
      ratio: round(more.sagasPerSecond / one.sagasPerSecond, 3),
      machineCpuPct: { oneWorker: one.machineCpuPct, workers: more.machineCpuPct },
    };
  if (result.groupCommit && result.floor)
    result.groupCommit.ratioToFloor = round(
      result.groupCommit.sagasPerSecond / result.floor.sagasPerSecond,
      3,
    );
  result.correct = [
    result.floor,
    ...result.drains,
    result.groupCommit,
    result.rate,
    result.memory,
  ].every((r) => !r || r.correctness.ok);
  return result;
}

let quiet = false;
const progressBar = (label: string, total: number) =>
  quiet ? { update: () => {}, done: () => {} } : bar_(label, total);

type Creator = (order: BenchOrder) => Promise<void>;

/** Everything at once: a few concurrent creators, as fast as createOrder goes. */
const drainAll = (orders: BenchOrder[]) => async (create: Creator) => {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < orders.length; i = next++) await create(orders[i]!);
  };
  await Promise.all(Array.from({ length: 4 }, lane));
};

async function runWithWorkers(
  o: SagaBenchOptions,
  db: ReturnType<typeof connect>['db'],
  pgPid: number | undefined,
  workers: number,
  prefix: string,
  orders: BenchOrder[],
  offer: (create: Creator) => Promise<void>,
  withWeb: boolean,
): Promise<RunResult> {
  const env: Record<string, string> = { DATABASE_URL: o.url, ...(o.workerEnv ?? {}) };
  if (o.concurrency) env.WORKER_CONCURRENCY = String(o.concurrency);
  const web = withWeb ? await startWeb({ databaseUrl: o.url }) : undefined;
  let procs: WorkerProcesses | undefined;
  let dashboard: Dashboard | undefined;
  let seen: DashboardSummary | undefined;
  let cpu: Record<string, number>;
  let machineCpuPct: number;
  let peakWeb = 0;
  let peakWebPlusWorker = 0;
  let created = 0;
  let failedCreates = 0;
  let creatorBefore = emptyCounts();
  let creatorWire = emptyCounts();
  const label =
    (prefix.startsWith('RATE')
      ? `rate    (${o.rate}/s, ${workers} worker${workers > 1 ? 's' : ''}`
      : `drain   (${workers} worker${workers > 1 ? 's' : ''}`) + `${web ? ' + web' : ''})`;
  let bar: ReturnType<typeof progressBar>;
  try {
    procs = await startWorkers(o.admin, workers, env);
    // The dashboard is open (event stream connected) before the first order.
    if (web) dashboard = await openDashboard(web);
    const trees: Record<string, () => number[]> = {
      workers: procs.pids,
      postgres: () => (pgPid ? [pgPid] : []),
    };
    // The web's CPU is shown in the split, not counted in CPU per saga (workers + PostgreSQL);
    // nor is that of the PostgreSQL backends serving it (the dashboard's reads): taken out of
    // `postgres` as `webPostgres`.
    let webBackends: number[] = [];
    const findWebBackends = async () => {
      if (web && pgPid) webBackends = await webBackendPids(web, o.admin);
    };
    if (web) trees.web = () => [web.pid];
    if (web && pgPid) trees.webPostgres = () => webBackends;
    const meter = new CpuMeter(trees);
    const machineCpu = new MachineCpuMeter();
    await findWebBackends();
    const client = process.cpuUsage();
    bar = progressBar(label, orders.length);
    creatorBefore = appCounts(APP_APPLICATION);
    meter.begin();
    machineCpu.begin();
    let finished = false;
    const offering = offer(async (order) => {
      try {
        await createOrder(db, order.input);
        created++;
      } catch (err) {
        failedCreates++;
        o.log(`createOrder failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }).finally(() => (finished = true));
    const deadline = () => Date.now() + 120_000;
    let stallDeadline = deadline();
    let lastDone = -1;
    for (;;) {
      await new Promise((r) => setTimeout(r, 200));
      const workerRss = procs.sample();
      if (web) {
        const webRss = web.rssMb();
        peakWeb = Math.max(peakWeb, webRss);
        peakWebPlusWorker = Math.max(peakWebPlusWorker, webRss + Math.max(0, ...workerRss));
      }
      const [s] = await settledSql(o.admin, prefix);
      const done = s!.total - s!.open;
      bar.update(done, `created ${created}${s!.stuck ? `, ${s!.stuck} need intervention` : ''}`);
      if (finished && s!.open === 0 && s!.total >= created) break;
      if (done !== lastDone) {
        lastDone = done;
        stallDeadline = deadline();
      } else if (Date.now() > stallDeadline) {
        throw new Error(`no progress for 120 s (${done}/${orders.length} settled)`);
      }
    }
    await findWebBackends(); // its pool may have grown during the run
    cpu = { ...meter.end(), client: cpuMs(process.cpuUsage(client)) };
    machineCpuPct = machineCpu.end();
    creatorWire = diffCounts(appCounts(APP_APPLICATION), creatorBefore);
    if (cpu.webPostgres !== undefined) {
      cpu.webPostgres = Math.max(0, cpu.webPostgres);
      cpu.postgres = (cpu.postgres ?? 0) - cpu.webPostgres;
    }
    await offering;
  } finally {
    seen = await dashboard?.stop();
    await Promise.all([procs?.stop(), web?.stop()]);
  }
  const t = await timingsFromRows(o.admin, prefix);
  const workerWire = procs.wireCounts();
  const tasks = await tasksRun(o.admin);
  const expected = new Map(orders.map((x) => [x.input.orderId!, x.outcome]));
  const correctness = await verifyRun(o.admin, expected);
  if (failedCreates > 0) correctness.problems.push(`${failedCreates} createOrder calls failed`);
  if (seen && seen.failures > 0)
    correctness.problems.push(
      `dashboard: ${seen.failures} of ${seen.requests} requests failed (${seen.problems.join('; ')})`,
    );
  correctness.ok = correctness.problems.length === 0;
  const run = toResult(
    'drain',
    workers,
    o.concurrency ?? null,
    t,
    cpu,
    machineCpuPct,
    ['workers', 'postgres'],
    {
      worker: procs.peakRssMb(),
      web: web ? peakWeb : null,
      webPlusWorker: web ? peakWebPlusWorker : null,
    },
    correctness,
    wireFigures(
      {
        statements: creatorWire.statements + workerWire.statements,
        transactionControl: creatorWire.transactionControl + workerWire.transactionControl,
        roundTrips: creatorWire.roundTrips + workerWire.roundTrips,
      },
      orders.length,
      tasks,
      workerWire.roundTrips,
    ),
  );
  bar.done(
    `${round(run.sagasPerSecond)} sagas/s, p50 ${run.p50Ms} ms` +
      (seen
        ? `, dashboard ${seen.requests - seen.failures}/${seen.requests} requests answered`
        : ''),
  );
  return run;
}

interface PeakRss {
  worker: number | null;
  web: number | null;
  webPlusWorker: number | null;
}
const NO_MEMORY: PeakRss = { worker: null, web: null, webPlusWorker: null };
const mb = (n: number | null) => (n === null ? null : Math.round(n));

function toResult(
  mode: RunResult['mode'],
  workers: number,
  concurrency: number | null,
  t: { latencies: number[]; seconds: number; n: number },
  cpu: Record<string, number>,
  machineCpuPct: number,
  counted: string[],
  rss: PeakRss,
  correctness: Correctness,
  wire: WireFigures | null = null,
): RunResult {
  const counts = counted.reduce((sum, k) => sum + (cpu[k] ?? 0), 0);
  return {
    mode,
    workers,
    concurrency,
    sagas: t.n,
    seconds: round(t.seconds, 2),
    sagasPerSecond: round(t.n / t.seconds),
    ...summarize(t.latencies),
    cpuMsPerSaga: round(counts / Math.max(1, t.n), 2),
    cpuMs: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Math.round(v)])),
    machineCpuPct: Math.round(machineCpuPct),
    peakWorkerRssMb: mb(rss.worker),
    webRssMb: mb(rss.web),
    webPlusWorkerRssMb: mb(rss.webPlusWorker),
    wire,
    correctness,
  };
}

const APP_APPLICATION = 'rxsaga'; // db/client.ts
const FLOOR_APPLICATION = 'rxsaga-floor';
const appCounts = (application: string) => wireCounts().get(application) ?? emptyCounts();
const diffCounts = (a: WireCounts, b: WireCounts): WireCounts => ({
  statements: a.statements - b.statements,
  transactionControl: a.transactionControl - b.transactionControl,
  roundTrips: a.roundTrips - b.roundTrips,
});

function wireFigures(
  c: WireCounts,
  sagas: number,
  tasks: number,
  taskRoundTrips: number,
): WireFigures {
  const per = (n: number, d: number) => round(n / Math.max(1, d), 2);
  return {
    statementsPerSaga: per(c.statements, sagas),
    transactionControlPerSaga: per(c.transactionControl, sagas),
    roundTripsPerSaga: per(c.roundTrips, sagas),
    tasks,
    roundTripsPerTask: tasks > 0 ? per(taskRoundTrips, tasks) : null,
  };
}

/**
 * Tasks the workers ran: each step or compensation records one outcome event, and each failed
 * attempt one attempt_failed (or intervention_required) event.
 */
async function tasksRun(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from events where type = any(${TASK_OUTCOME_TYPES}::text[])`;
  return row!.n;
}

const TASK_OUTCOME_TYPES = [
  'order.prescription_created',
  'order.prescription_failed',
  'order.inventory_reserved',
  'order.inventory_reservation_failed',
  'order.shipment_initiated',
  'order.shipment_initiation_failed',
  'order.inventory_released',
  'order.prescription_cancelled',
  'order.cancelled',
  'order_fulfillment_saga.attempt_failed',
  'order_fulfillment_saga.intervention_required',
];

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

function machine(settings: Record<string, string>) {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    postgres: settings.server_version,
    fsync: settings.fsync,
    synchronousCommit: settings.synchronous_commit,
    walSyncMethod: settings.wal_sync_method,
    sharedBuffers: settings.shared_buffers,
  };
}
