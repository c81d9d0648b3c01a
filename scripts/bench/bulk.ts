import type postgres from 'postgres';
import { getBulkOperation } from '@/db/bulk-operations';
import { connect } from '@/db/client';
import { startBulkOperation } from '@/server/commands/bulk-operation';
import { createOrder } from '@/server/commands/create-order';
import { loadavg } from 'node:os';
import { CpuMeter, MachineCpuMeter, postmasterPid } from './cpu';
import { resetForRun } from './database';
import { makeOrders, type BenchOrder } from './orders';
import { percentile, round } from './report';
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

export interface BulkBenchResult {
  flagged: number;
  flagSeconds: number;
  operation: { total: number; succeeded: number; skipped: number; failed: number; status: string };
  /** createdAt → finishedAt of the operation (database clock). */
  finishSeconds: number;
  /** Until every cancelled saga finished its compensations. */
  compensatedSeconds: number;
  quietP95Ms: number | null;
  duringP95Ms: number | null;
  ratio: number | null;
  machineCpuPct: number;
  /**
   * CPU seconds from the operation's start until every compensation ran: the worker processes,
   * PostgreSQL (every backend), and this process (which offers the new orders).
   */
  cpuSeconds: { workers: number; postgres: number; bench: number };
  /** The machine's 1-minute load average when the operation started and when it ended. */
  load: { start: number; end: number };
  ok: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function p95Of(sql: postgres.Sql, prefix: string): Promise<number | null> {
  const rows = await sql<{ ms: number }[]>`
    select extract(epoch from (completed_at - started_at)) * 1000 as ms
    from order_fulfillment_sagas where order_id like ${`${prefix}%`} and state = 'COMPLETED'
    order by 1`;
  return rows.length
    ? percentile(
        rows.map((r) => Number(r.ms)),
        0.95,
      )
    : null;
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
    const quietP95Ms = await p95Of(sql, 'QUIET');

    o.log(`bulk cancel of every flagged saga, new orders at ${o.rate}/s meanwhile…`);
    const machine = new MachineCpuMeter();
    machine.begin();
    const pgPid = postmasterPid(o.dataDirectory);
    if (!pgPid)
      o.log('PostgreSQL runs elsewhere (not readable under /proc): its CPU is not counted');
    const cpu = new CpuMeter({ workers: procs.pids, postgres: () => (pgPid ? [pgPid] : []) });
    cpu.begin();
    const benchCpu = process.cpuUsage();
    const loadStart = loadavg()[0]!;
    const started = Date.now();
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
    await waitUntil(
      async () => (await getBulkOperation(app.db, answer.operationId))?.status !== 'running',
      'the operation to finish',
    );
    const op = await getBulkOperation(app.db, answer.operationId);
    const finishSeconds = op?.finishedAt
      ? (Date.parse(op.finishedAt) - Date.parse(op.createdAt)) / 1000
      : Number.NaN;
    await waitUntil(() => settled(sql, 'STUCK'), 'the compensations');
    const compensatedSeconds = (Date.now() - started) / 1000;
    const cpuMs = cpu.end();
    const { user, system } = process.cpuUsage(benchCpu);
    const cpuSeconds = {
      workers: (cpuMs.workers ?? 0) / 1000,
      postgres: (cpuMs.postgres ?? 0) / 1000,
      bench: (user + system) / 1e6,
    };
    const load = { start: loadStart, end: loadavg()[0]! };
    stopOffering = true;
    await during;
    await waitUntil(() => settled(sql, 'DURING'), 'the orders offered during the operation');
    const machineCpuPct = machine.end();
    const duringP95Ms = await p95Of(sql, 'DURING');
    const [{ cancelled } = { cancelled: 0 }] = await sql<{ cancelled: number }[]>`
      select count(*)::int as cancelled from order_fulfillment_sagas
      where order_id like 'STUCK%' and state = 'CANCELLED'`;
    const operation = {
      total: op?.total ?? 0,
      succeeded: op?.succeeded ?? 0,
      skipped: op?.skipped ?? 0,
      failed: op?.failed ?? 0,
      status: op?.status ?? 'missing',
    };
    return {
      flagged,
      flagSeconds,
      operation,
      finishSeconds,
      compensatedSeconds,
      quietP95Ms,
      duringP95Ms,
      ratio: quietP95Ms && duringP95Ms ? duringP95Ms / quietP95Ms : null,
      machineCpuPct,
      cpuSeconds,
      load,
      ok: operation.status === 'done' && operation.succeeded === o.sagas && cancelled === o.sagas,
    };
  } finally {
    stopOffering = true;
    await offering;
    await procs.stop();
    await app.sql.end({ timeout: 5 });
  }
}

export function printBulkBench(
  r: BulkBenchResult,
  o: Pick<BulkBenchOptions, 'workers' | 'rate'>,
): void {
  const lines = [
    `bulk cancel of ${r.operation.total} flagged sagas (${o.workers} worker process${o.workers > 1 ? 'es' : ''}):`,
    `  operation ${r.operation.status}: ${r.operation.succeeded} succeeded, ${r.operation.skipped} skipped, ${r.operation.failed} failed`,
    `  time to finish the operation:     ${round(r.finishSeconds)} s   (goal < 60 s)`,
    `  until every compensation ran:     ${round(r.compensatedSeconds)} s`,
    `  new sagas' p95 at ${o.rate}/s: quiet ${r.quietP95Ms === null ? '—' : round(r.quietP95Ms)} ms, during ${r.duringP95Ms === null ? '—' : round(r.duringP95Ms)} ms` +
      `  (${r.ratio === null ? '—' : `${round(r.ratio, 2)}×`}, goal ≤ 2×)`,
    `  machine CPU during the operation: ${round(r.machineCpuPct)} %  (flagging took ${round(r.flagSeconds)} s)`,
    `  CPU time until every compensation ran: workers ${round(r.cpuSeconds.workers)} s, PostgreSQL ${round(r.cpuSeconds.postgres)} s, bench (new orders) ${round(r.cpuSeconds.bench)} s`,
    `  load average (1 min): ${round(r.load.start, 2)} at the start, ${round(r.load.end, 2)} at the end`,
    `  ${r.ok ? 'correct' : 'NOT CORRECT'}: every flagged saga cancelled and compensated`,
  ];
  console.log(lines.join('\n'));
}
