import type postgres from 'postgres';
import { getBulkOperation } from '@/db/bulk-operations';
import { connect } from '@/db/client';
import { startBulkOperation } from '@/server/commands/bulk-operation';
import { createOrder } from '@/server/commands/create-order';
import { loadavg } from 'node:os';
import { CpuMeter, MachineCpuMeter, postmasterPid } from './cpu';
import { resetForRun } from './database';
import { makeOrders, type BenchOrder } from './orders';
import { percentile, round, table } from './report';
import { startWorkers } from './workers';

/**
 * `npm run bench -- --bulk N`: N sagas flagged at the shipment (the carrier refused them with
 * every attempt), then one bulk cancel of all of them, while new orders keep arriving at a fixed
 * rate. Reports how long the operation took to finish (goal: under 60 s for 10 000 on 2 cores)
 * and the new sagas' p95 during it against the same load with no operation running (goal:
 * at most 2×). A benchmark, not a test: the figures move with whatever else runs on the machine.
 */
export interface BulkBenchOptions {
  url: string;
  admin: postgres.Sql;
  sagas: number;
  workers: number;
  /** New orders per second during the quiet run and the bulk run. */
  rate: number;
  quietSeconds: number;
  /** The database's data directory: its postmaster's CPU is counted. */
  dataDirectory: string;
  log: (m: string) => void;
}

/** New sagas' latency (started → completed) and wait (started → their first step began). */
export interface NewSagaFigures {
  count: number;
  p50Ms: number | null;
  p95Ms: number | null;
  /** Until the first step's transaction began: the time the saga's job waited in the queue. */
  firstStepP95Ms: number | null;
}

/** One second of the operation, as the sampler saw it. */
export interface BulkSample {
  /** Seconds since the operation was created. */
  t: number;
  /** The operation's sagas with an outcome (its own events written). */
  processed: number;
  /** Its sagas whose compensations have all run (CANCELLED). */
  compensated: number;
  /** graphile-worker jobs by priority: due and waiting, and locked (taken by a worker). */
  queue: Record<string, { due: number; locked: number }>;
}

export interface BulkBenchResult {
  flagged: number;
  flagSeconds: number;
  operation: { total: number; succeeded: number; skipped: number; failed: number; status: string };
  /** createdAt → finishedAt of the operation: its own events for every saga (database clock). */
  finishSeconds: number;
  /** createdAt → the last of its sagas reaching CANCELLED: every compensation ran (database clock). */
  compensatedSeconds: number;
  quiet: NewSagaFigures;
  /** New sagas started while the operation wrote its events. */
  duringOperation: NewSagaFigures;
  /** New sagas started after that, while its compensations still ran. */
  duringCompensations: NewSagaFigures;
  /** Of every new saga started before the last compensation: the goal's figure. */
  during: NewSagaFigures;
  ratio: number | null;
  machineCpuPct: number;
  /**
   * CPU seconds per process tree, while the operation wrote its events and then until every
   * compensation ran: the worker processes, PostgreSQL (every backend), and the web side (this
   * process, which creates the new orders as the web app's POST /api/orders does).
   */
  cpuSeconds: {
    operation: { workers: number; postgres: number; web: number };
    compensations: { workers: number; postgres: number; web: number };
  };
  samples: BulkSample[];
  /**
   * With RXSAGA_BENCH_STATEMENTS=N and pg_stat_statements loaded (shared_preload_libraries in
   * the bench cluster; track = all counts statements inside triggers too): the N statements
   * with the most execution time from the operation's start to its end.
   */
  statements: { query: string; calls: number; totalMs: number; meanMs: number }[] | null;
  /** The machine's 1-minute load average when the operation started and when it ended. */
  load: { start: number; end: number };
  ok: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const p = (sorted: number[], q: number) => (sorted.length ? round(percentile(sorted, q)) : null);

/** NewSagaFigures of the completed sagas of `prefix` started in [from, to) (database clock). */
async function newSagaFigures(
  sql: postgres.Sql,
  prefix: string,
  from: Date | null = null,
  to: Date | null = null,
): Promise<NewSagaFigures> {
  const rows = await sql<{ ms: number; first_ms: number }[]>`
    select extract(epoch from (s.completed_at - s.started_at)) * 1000 as ms,
      extract(epoch from ((select min(e.recorded_at) from events e
        where e.stream_id = 'order_fulfillment_saga-' || s.saga_id and e.version = 2)
        - s.started_at)) * 1000 as first_ms
    from order_fulfillment_sagas s
    where s.order_id like ${`${prefix}%`} and s.state = 'COMPLETED'
      and (${from}::timestamptz is null or s.started_at >= ${from}::timestamptz)
      and (${to}::timestamptz is null or s.started_at < ${to}::timestamptz)`;
  const ms = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
  const first = rows.map((r) => Number(r.first_ms)).sort((a, b) => a - b);
  return { count: ms.length, p50Ms: p(ms, 50), p95Ms: p(ms, 95), firstStepP95Ms: p(first, 95) };
}

async function sample(
  sql: postgres.Sql,
  operationId: string,
  createdAt: Date,
): Promise<BulkSample> {
  const [progress] = await sql<{ t: number; processed: number; compensated: number }[]>`
    select extract(epoch from (clock_timestamp() - ${createdAt}::timestamptz))::float8 as t,
      (select count(*)::int from bulk_operation_items
        where operation_id = ${operationId}::uuid and outcome is not null) as processed,
      (select count(*)::int from order_fulfillment_sagas
        where order_id like 'STUCK%' and state = 'CANCELLED') as compensated`;
  const jobs = await sql<{ priority: number; due: number; locked: number }[]>`
    select priority, count(*) filter (where locked_at is null and run_at <= now())::int as due,
      count(*) filter (where locked_at is not null)::int as locked
    from graphile_worker._private_jobs group by priority order by priority`;
  return {
    t: round(Number(progress!.t)),
    processed: progress!.processed,
    compensated: progress!.compensated,
    queue: Object.fromEntries(
      jobs.map((j) => [String(j.priority), { due: j.due, locked: j.locked }]),
    ),
  };
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** Offers `orders` at `rate` per second (open loop), resolving when all are created. */
async function offer(db: ReturnType<typeof connect>['db'], orders: BenchOrder[], rate: number) {
  const start = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < orders.length; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(createOrder(db, orders[i]!.input));
  }
  await Promise.all(pending);
}

const settled = async (sql: postgres.Sql, prefix: string) => {
  const [row] = await sql<
    { open: number }[]
  >`select count(*)::int as open from order_fulfillment_sagas
    where order_id like ${`${prefix}%`} and state not in ('COMPLETED', 'CANCELLED') and not needs_intervention`;
  return row!.open === 0;
};

export async function runBulkBench(o: BulkBenchOptions): Promise<BulkBenchResult> {
  const sql = o.admin;
  await resetForRun(sql);
  await sql`truncate bulk_operation_items, bulk_operations, task_pauses, paused_sagas`;
  const app = connect(o.url, 8);
  let stopOffering = false;
  let offering: Promise<void> = Promise.resolve();
  // One attempt: a carrier refusal (00504) flags the saga at once.
  const procs = await startWorkers(sql, o.workers, {
    DATABASE_URL: o.url,
    RXSAGA_MAX_ATTEMPTS: '1',
  });
  try {
    o.log(`flagging ${o.sagas} sagas at the shipment (carrier 00504, one attempt)…`);
    const flagStart = Date.now();
    const stuck = makeOrders(o.sagas, { mix: false, prefix: 'STUCK', seed: 21 }).map((x) => ({
      ...x,
      input: { ...x.input, shippingAddress: { ...x.input.shippingAddress, postalCode: '00504' } },
    }));
    for (let i = 0; i < stuck.length; i += 200) {
      await Promise.all(stuck.slice(i, i + 200).map((x) => createOrder(app.db, x.input)));
    }
    await waitUntil(() => settled(sql, 'STUCK'), 'the stuck sagas to be flagged');
    const flagSeconds = (Date.now() - flagStart) / 1000;
    const [{ flagged } = { flagged: 0 }] = await sql<{ flagged: number }[]>`
      select count(*)::int as flagged from order_fulfillment_sagas where needs_intervention`;
    o.log(`${flagged} flagged in ${round(flagSeconds)} s`);

    const count = Math.max(1, Math.round(o.rate * o.quietSeconds));
    o.log(`quiet run: ${count} new orders at ${o.rate}/s…`);
    await offer(app.db, makeOrders(count, { mix: false, prefix: 'QUIET', seed: 5 }), o.rate);
    await waitUntil(() => settled(sql, 'QUIET'), 'the quiet run');
    const quiet = await newSagaFigures(sql, 'QUIET');

    o.log(`bulk cancel of every flagged saga, new orders at ${o.rate}/s meanwhile…`);
    const machine = new MachineCpuMeter();
    machine.begin();
    const pgPid = postmasterPid(o.dataDirectory);
    if (!pgPid)
      o.log('PostgreSQL runs elsewhere (not readable under /proc): its CPU is not counted');
    const cpu = new CpuMeter({ workers: procs.pids, postgres: () => (pgPid ? [pgPid] : []) });
    const webCpu = () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    };
    const topStatements = Number(process.env.RXSAGA_BENCH_STATEMENTS ?? 0);
    const statementsLoaded = topStatements > 0 && (await resetStatements(sql, o.log));
    cpu.begin();
    const web0 = webCpu();
    const loadStart = loadavg()[0]!;
    const answer = await startBulkOperation(
      app.db,
      {
        action: 'cancel',
        filter: { needsIntervention: true, task: 'initiate-shipment' },
        reason: 'bench: carrier gone',
      },
      { actor: 'bench', role: 'operator' },
    );
    if (answer.dryRun) throw new Error('unexpected dry run');
    const created = new Date((await getBulkOperation(app.db, answer.operationId))!.createdAt);
    let n = 0;
    const during = (async () => {
      const start = performance.now();
      const pending: Promise<unknown>[] = [];
      while (!stopOffering) {
        const order = makeOrders(1, { mix: false, prefix: `DURING-${n}`, seed: 100 + n })[0]!;
        pending.push(createOrder(app.db, order.input));
        n++;
        const wait = start + (n * 1000) / o.rate - performance.now();
        if (wait > 0) await sleep(wait);
      }
      await Promise.all(pending);
    })();
    // Should a wait below fail, the offering stops before the connections close under it.
    offering = during.catch(() => {});
    const samples: BulkSample[] = [];
    const sampleUntil = async (done: () => Promise<boolean>, what: string) => {
      const deadline = Date.now() + 600_000;
      let next = Date.now();
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        if (Date.now() >= next) {
          samples.push(await sample(sql, answer.operationId, created));
          next += 1000;
        }
        await sleep(Math.max(0, Math.min(250, next - Date.now())));
      }
    };
    await sampleUntil(
      async () => (await getBulkOperation(app.db, answer.operationId))?.status !== 'running',
      'the operation to finish',
    );
    const cpuOperation: Record<string, number> = { ...cpu.end(), web: webCpu() - web0 };
    const statements = statementsLoaded ? await readStatements(sql, topStatements) : null;
    const op = await getBulkOperation(app.db, answer.operationId);
    const finished = op?.finishedAt ? new Date(op.finishedAt) : new Date();
    await sampleUntil(() => settled(sql, 'STUCK'), 'the compensations');
    const cpuAll: Record<string, number> = { ...cpu.end(), web: webCpu() - web0 };
    const load = { start: loadStart, end: loadavg()[0]! };
    stopOffering = true;
    await during;
    await waitUntil(() => settled(sql, 'DURING'), 'the orders offered during the operation');
    const machineCpuPct = machine.end();
    const [last] = await sql<{ at: Date; cancelled: number }[]>`
      select max(updated_at) as at, count(*)::int as cancelled from order_fulfillment_sagas
      where order_id like 'STUCK%' and state = 'CANCELLED'`;
    const compensatedAt = last!.at;
    const sec = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;
    const duringAll = await newSagaFigures(sql, 'DURING', null, compensatedAt);
    const operation = {
      total: op?.total ?? 0,
      succeeded: op?.succeeded ?? 0,
      skipped: op?.skipped ?? 0,
      failed: op?.failed ?? 0,
      status: op?.status ?? 'missing',
    };
    const seconds = (ms: number | undefined) => round((ms ?? 0) / 1000);
    const tree = (c: Record<string, number>, web: number) => ({
      workers: seconds(c.workers),
      postgres: seconds(c.postgres),
      web: round(web),
    });
    return {
      flagged,
      flagSeconds,
      operation,
      finishSeconds: op?.finishedAt ? sec(created, finished) : Number.NaN,
      compensatedSeconds: sec(created, compensatedAt),
      quiet,
      duringOperation: await newSagaFigures(sql, 'DURING', null, finished),
      duringCompensations: await newSagaFigures(sql, 'DURING', finished, compensatedAt),
      during: duringAll,
      ratio: quiet.p95Ms && duringAll.p95Ms ? duringAll.p95Ms / quiet.p95Ms : null,
      machineCpuPct,
      cpuSeconds: {
        operation: tree(cpuOperation, cpuOperation.web ?? 0),
        compensations: tree(
          {
            workers: (cpuAll.workers ?? 0) - (cpuOperation.workers ?? 0),
            postgres: (cpuAll.postgres ?? 0) - (cpuOperation.postgres ?? 0),
          },
          (cpuAll.web ?? 0) - (cpuOperation.web ?? 0),
        ),
      },
      samples,
      statements,
      load,
      ok:
        operation.status === 'done' &&
        operation.succeeded === o.sagas &&
        last!.cancelled === o.sagas,
    };
  } finally {
    stopOffering = true;
    await offering;
    await procs.stop();
    await app.sql.end({ timeout: 5 });
  }
}

/** Zeroes pg_stat_statements; false (said in the log) when it is not loaded. */
async function resetStatements(sql: postgres.Sql, log: (m: string) => void): Promise<boolean> {
  try {
    await sql`create extension if not exists pg_stat_statements`;
    await sql`select pg_stat_statements_reset()`;
    return true;
  } catch (err) {
    log(`pg_stat_statements not available (${(err as Error).message}): no statement figures`);
    return false;
  }
}

async function readStatements(sql: postgres.Sql, n: number) {
  const rows = await sql<{ query: string; calls: number; total_ms: number; mean_ms: number }[]>`
    select regexp_replace(query, '[[:space:]]+', ' ', 'g') as query, calls::int,
      total_exec_time::float8 as total_ms, mean_exec_time::float8 as mean_ms
    from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
    order by total_exec_time desc limit ${n}`;
  return rows.map((r) => ({
    query: r.query.slice(0, 160),
    calls: r.calls,
    totalMs: round(r.total_ms),
    meanMs: round(r.mean_ms, 3),
  }));
}

const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);
const figures = (f: NewSagaFigures) =>
  `p95 ${ms(f.p95Ms)} (p50 ${ms(f.p50Ms)}, first step began p95 ${ms(f.firstStepP95Ms)}; ${f.count} sagas)`;

/** Every 5th sample: how the operation, its compensations and the job queue moved. */
function timeline(samples: readonly BulkSample[]): string[] {
  const priorities = [...new Set(samples.flatMap((s) => Object.keys(s.queue)))].sort(
    (a, b) => Number(a) - Number(b),
  );
  const rows = samples
    .filter((_, i) => i % 5 === 0 || i === samples.length - 1)
    .map((s) => [
      s.t,
      s.processed,
      s.compensated,
      ...priorities.map((p) => `${s.queue[p]?.due ?? 0}/${s.queue[p]?.locked ?? 0}`),
    ]);
  return table(
    ['t (s)', 'operation done', 'compensated', ...priorities.map((p) => `jobs p${p} due/locked`)],
    rows,
  )
    .split('\n')
    .map((l: string) => `    ${l}`);
}

export function printBulkBench(
  r: BulkBenchResult,
  o: Pick<BulkBenchOptions, 'workers' | 'rate'>,
): void {
  const cpu = (c: BulkBenchResult['cpuSeconds']['operation']) =>
    `workers ${c.workers} s, PostgreSQL ${c.postgres} s, web (new orders) ${c.web} s`;
  const lines = [
    `bulk cancel of ${r.operation.total} flagged sagas (${o.workers} worker process${o.workers > 1 ? 'es' : ''}):`,
    `  operation ${r.operation.status}: ${r.operation.succeeded} succeeded, ${r.operation.skipped} skipped, ${r.operation.failed} failed`,
    `  finished (every saga's cancel event, audit entry and outcome written): ${round(r.finishSeconds)} s  (goal < 60 s)`,
    `  compensated (every cancelled saga's compensations ran, CANCELLED):     ${round(r.compensatedSeconds)} s`,
    `  new sagas at ${o.rate}/s:`,
    `    quiet:                                  ${figures(r.quiet)}`,
    `    started while the operation ran:        ${figures(r.duringOperation)}`,
    `    started while its compensations ran:    ${figures(r.duringCompensations)}`,
    `    all started before the last compensation: ${figures(r.during)}` +
      `  → ${r.ratio === null ? '—' : `${round(r.ratio, 2)}×`} the quiet p95 (goal ≤ 2×)`,
    `  CPU time until finished:                 ${cpu(r.cpuSeconds.operation)}`,
    `  CPU time from then until compensated:    ${cpu(r.cpuSeconds.compensations)}`,
    `  machine CPU during both: ${round(r.machineCpuPct)} %  (flagging took ${round(r.flagSeconds)} s)`,
    `  load average (1 min): ${round(r.load.start, 2)} at the start, ${round(r.load.end, 2)} at the end`,
    `  timeline:`,
    ...timeline(r.samples),
    ...(r.statements
      ? [
          `  statements with the most execution time during the operation (pg_stat_statements):`,
          ...table(
            ['total ms', 'calls', 'mean ms', 'statement'],
            r.statements.map((q) => [q.totalMs, q.calls, q.meanMs, q.query]),
          )
            .split('\n')
            .map((l: string) => `    ${l}`),
        ]
      : []),
    `  ${r.ok ? 'correct' : 'NOT CORRECT'}: every flagged saga cancelled and compensated`,
  ];
  console.log(lines.join('\n'));
}
