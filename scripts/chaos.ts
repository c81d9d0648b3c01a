import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import { projectRoot } from '@/db/embedded';
import { migrate } from '@/db/migrate';
import { AlertDrill } from './chaos/alerts';
import { httpApi, directApi, type ChaosApi } from './chaos/api';
import {
  CHAOS_DB,
  ChaosProcess,
  WorkerFleet,
  dropDatabase,
  ensureBuild,
  freePort,
  externalDatabase,
  recreateDatabase,
  startEmbeddedDatabase,
  startWeb,
  waitForHttp,
  withDatabase,
  type ChaosDatabase,
  type ExitRecord,
} from './chaos/cluster';
import {
  BASE_LATENCY_MS,
  buildSchedule,
  emptyFaultLog,
  FaultLane,
  operatorTick,
  resolveFlagged,
  runSchedule,
  scheduleCheck,
  setBaseFaults,
  type FaultContext,
} from './chaos/faults';
import { startIncidentDrill } from './chaos/incidents';
import { ChaosTwo } from './chaos/chaos-two';
import {
  checkAgainstClient,
  checkDatabase,
  compareDigests,
  jobState,
  projectionDigest,
  type Check,
} from './chaos/invariants';
import { LoadDriver, SCARCE_SKU, SCENARIOS } from './chaos/load';
import { parseChaosOptions } from './chaos/options';
import { makeRng, sleep } from './chaos/rng';
import { secs, table } from './chaos/report';
import { runDrill } from './lib/run-drill';

/**
 * `npm run chaos`: the reliability drill. See README "Reliability" and `npm run chaos -- --help`.
 * Run as `node --import tsx scripts/chaos.ts` (npx would not pass our signals on).
 */

const WORKER_SETTINGS = {
  RXSAGA_HEARTBEAT_SECONDS: '1',
  RXSAGA_WORKER_DEAD_SECONDS: '5',
  RXSAGA_STALL_SECONDS: '30',
  RXSAGA_MAX_ATTEMPTS: '3',
  RXSAGA_RETRY_BASE_MS: '200',
};

const started = Date.now();
const stamp = () => {
  const s = Math.floor((Date.now() - started) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const log = (m: string) => console.log(`[chaos ${stamp()}] ${m}`);

interface Cleanup {
  web?: ChaosProcess;
  fleet?: WorkerFleet;
  db?: ChaosDatabase;
  api?: ChaosApi;
  sql?: postgres.Sql;
  chaosTwo?: ChaosTwo;
  adminUrl?: string;
  alerts?: AlertDrill;
}
const cleanup: Cleanup = {};

async function main(): Promise<number> {
  const o = parseChaosOptions(process.argv.slice(2));
  // The commands this process may call (--transport direct) log through pino: keep it quiet.
  process.env.LOG_LEVEL ??= 'warn';
  const rng = makeRng(o.seed);
  log(
    `seed ${o.seed} · ${o.minutes} min · ${o.rate} orders/s · ${o.workers} workers × ${o.workerConcurrency}${o.groupCommit > 1 ? ` · group commit ${o.groupCommit}` : ''} · faults: ${[...o.faults].join(', ') || 'none'}`,
  );

  // --- database -------------------------------------------------------------------------
  const external = process.env.DATABASE_URL;
  const dataDir = path.resolve(projectRoot, o.pgDataDir ?? path.join('.data', 'chaos-pg'));
  const db = external
    ? externalDatabase(external, o.pgDataDir && path.resolve(o.pgDataDir), log)
    : await startEmbeddedDatabase(dataDir, await freePort(o.pgPort), log);
  cleanup.db = db;
  if (o.faults.has('pg-restart') && !db.canRestart) {
    log(
      'this database cannot be restarted by the drill (pass --pg-data-dir for pg_ctl): pg-restart skipped',
    );
    o.faults.delete('pg-restart');
  }
  const chaosTwo = new ChaosTwo(
    o,
    {
      deadSeconds: Number(WORKER_SETTINGS.RXSAGA_WORKER_DEAD_SECONDS),
      stallSeconds: Number(WORKER_SETTINGS.RXSAGA_STALL_SECONDS),
      retryBaseMs: Number(WORKER_SETTINGS.RXSAGA_RETRY_BASE_MS),
    },
    Number(new URL(db.url).port),
    dataDir,
    Boolean(external),
    o.faultsNamed,
    log,
  );
  cleanup.chaosTwo = chaosTwo;
  cleanup.adminUrl = db.adminUrl;
  await recreateDatabase(db.adminUrl, CHAOS_DB, await chaosTwo.prepare(db.adminUrl, CHAOS_DB));
  await migrate(db.url);
  const { connect } = await import('@/db/client');
  const { seedDemoCatalog } = await import('@/db/seed');
  const seeding = connect(db.url, 1);
  await seedDemoCatalog(seeding.db);
  await seeding.sql.end({ timeout: 5 });
  log(`database ${CHAOS_DB} created, migrated and seeded`);

  const logDir = path.join(external ? path.join(projectRoot, '.data', 'chaos') : dataDir + '-logs');
  await fs.rm(logDir, { recursive: true, force: true });
  await fs.mkdir(logDir, { recursive: true });

  // --- web --------------------------------------------------------------------------------
  const token = randomBytes(24).toString('hex');
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    RXSAGA_API_TOKEN: token,
    RXSAGA_ADMIN_PASSWORD: randomBytes(12).toString('hex'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    WORKER_CONCURRENCY: String(o.workerConcurrency),
    RXSAGA_GROUP_COMMIT: String(o.groupCommit),
    ...WORKER_SETTINGS,
  };
  const alertDrill = await AlertDrill.start();
  cleanup.alerts = alertDrill;
  Object.assign(childEnv, alertDrill.env);
  let transport = o.transport;
  if (transport === 'http' && !existsSync(path.join(projectRoot, 'app/api/orders/route.ts'))) {
    log('the HTTP API (app/api/orders) is not there yet: driving the commands directly instead');
    transport = 'direct';
  }
  let api: ChaosApi;
  if (transport === 'http') {
    await ensureBuild(log);
    o.port = await freePort(o.port);
    const web = startWeb(
      o.port,
      { ...childEnv, ...chaosTwo.envFor('web', db.url) },
      logDir,
      o.verbose,
    );
    cleanup.web = web;
    void web.exited.then((e) => {
      if (!e.expected)
        log(`web exited unexpectedly (${e.signal ?? `code ${e.code}`}):\n${e.lastLines}`);
    });
    await waitForHttp(`http://127.0.0.1:${o.port}/api/health`, 120_000, () => !web.running);
    api = httpApi(`http://127.0.0.1:${o.port}`, token);
    log(`web app up on http://127.0.0.1:${o.port}`);
  } else {
    api = await directApi(db.url);
  }
  cleanup.api = api;
  api = chaosTwo.watch(api);

  const sql = postgres(db.url, {
    max: 4,
    onnotice: () => {},
    connect_timeout: 10,
    connection: { application_name: 'rxsaga-chaos' },
  });
  cleanup.sql = sql;
  await chaosTwo.instrument(sql);

  const totalOrders = o.rate * o.minutes * 60;
  // Enough of the scarce SKU for about a third of the contention orders: the rest must be refused.
  const scarceStock = Math.max(20, Math.round(totalOrders * 0.24 * 3.5 * 0.35));
  const stockSet = await api.setStock(SCARCE_SKU, scarceStock);
  if (stockSet.status >= 300)
    throw new Error(
      `PUT /api/inventory/${SCARCE_SKU} answered ${stockSet.status}: ${JSON.stringify(stockSet.body)}`,
    );
  await setBaseFaults(api, BASE_LATENCY_MS);

  // --- workers ----------------------------------------------------------------------------
  const fleet = new WorkerFleet(o.workers, childEnv, logDir, o.verbose, log, (name) =>
    chaosTwo.envFor(name, db.url),
  );
  cleanup.fleet = fleet;
  fleet.start();
  for (const deadline = Date.now() + 60_000; ; await sleep(300)) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from worker_heartbeats`;
    if ((row?.n ?? 0) >= o.workers) break;
    if (Date.now() > deadline)
      throw new Error('workers did not start within 60 s; see the logs in ' + logDir);
  }
  log(`${o.workers} workers up; load and faults start now`);

  // --- load + faults ----------------------------------------------------------------------
  const record = emptyFaultLog();
  const t0 = Date.now();
  const lane = new FaultLane();
  const ctx: FaultContext = {
    sql,
    lane,
    db,
    fleet,
    api,
    rng: makeRng(o.seed ^ 0x5eed),
    log,
    record,
    dbName: CHAOS_DB,
    t0,
  };
  const plan = buildSchedule(o, makeRng(o.seed ^ 0xfa17));
  const driver = new LoadDriver(api, rng, o.seed, o.faults.has('duplicates'));
  const duration = o.minutes * 60_000;
  let loadOver = false;
  const loading = driver.run(o.rate);
  const faulting = runSchedule(ctx, plan);
  const faultingTwo = chaosTwo.run({
    sql,
    fleet,
    env: childEnv,
    databaseUrl: db.url,
    logDir,
    t0,
    durationMs: duration,
    lane,
  });
  const operating = (async () => {
    if (!o.faults.has('operator')) return;
    while (!loadOver) {
      await operatorTick(ctx, true).catch(() => {});
      await sleep(1000);
    }
  })();
  // Pauses and bulk operations are operator actions: they race the workers with the operator fault.
  const incidents = startIncidentDrill({
    url: db.url,
    rng: makeRng(o.seed ^ 0x1dc1),
    isOver: () => loadOver || !o.faults.has('operator'),
    log,
  });
  const progress = setInterval(
    () => void printProgress(sql, driver, fleet, record).catch(() => {}),
    5000,
  );
  await sleep(duration);
  driver.stop();
  loadOver = true;
  await Promise.all([loading, operating, incidents.done]);
  await Promise.all([faulting, faultingTwo]);
  log(`load and faults over: ${driver.orders.length} orders sent; waiting for in-flight requests`);
  await setBaseFaults(api, 0);
  await driver.drain();
  const loadEnded = Date.now();

  // --- quiescence -------------------------------------------------------------------------
  // The bounds after the load follow progress, not the wall clock (untilDone): on a busy
  // machine the last sagas finish later, but a stuck one stops the count falling, and after
  // --settle seconds without a saga settling the drill gives up.
  log(
    `waiting for every saga to finish or be flagged for a human (giving up after ${o.settleSeconds} s without one settling)`,
  );
  let unsettled = -1;
  const settling = await untilDone(
    async () => {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from order_fulfillment_sagas where not saga_state_is_terminal(state) and not needs_intervention`.catch(
        () => [{ n: -1 }],
      );
      return (unsettled = row?.n ?? -1);
    },
    o.settleSeconds * 1000,
    (n) => log(`settling: ${n} sagas still in flight`),
  );
  const settledAfterMs = settling.done ? Date.now() - loadEnded : null;
  const stuck =
    settledAfterMs === null
      ? await sql<{ saga_id: string; state: string; current_task: string; updated_at: Date }[]>`
        select saga_id, state, current_task, updated_at from order_fulfillment_sagas
        where not saga_state_is_terminal(state) and not needs_intervention limit 5`
      : [];
  const flaggedRows = await sql<{ state: string; reason: string | null }[]>`
    select state, intervention_reason as reason from order_fulfillment_sagas where needs_intervention`;
  const flaggedWithoutReason = flaggedRows.filter((r) => !r.reason?.trim()).length;
  log(
    settledAfterMs !== null
      ? `settled ${secs(settledAfterMs)} after the load stopped; ${flaggedRows.length} flagged for a human`
      : `NOT settled: ${unsettled} sagas still in flight`,
  );

  // The operator resolves what is flagged: retry a stuck compensation, cancel a stuck step.
  const allTerminal = (
    await untilDone(
      async () => {
        const [row] = await sql<{ open: number; flagged: number }[]>`
          select count(*) filter (where not saga_state_is_terminal(state))::int as open,
                 count(*) filter (where needs_intervention)::int as flagged from order_fulfillment_sagas`;
        if ((row?.flagged ?? 0) > 0) await resolveFlagged(ctx);
        return row?.open ?? -1;
      },
      120_000,
      (n) => log(`operator: ${n} sagas still open`),
      1500,
    )
  ).done;
  let jobs = await jobState(sql, Number(WORKER_SETTINGS.RXSAGA_WORKER_DEAD_SECONDS));
  await untilDone(async () => {
    jobs = await jobState(sql, Number(WORKER_SETTINGS.RXSAGA_WORKER_DEAD_SECONDS));
    return jobs.total;
  }, 30_000);
  if (allTerminal) await alertDrill.settle(sql);
  clearInterval(progress);

  // --- stop processes ----------------------------------------------------------------------
  const finalExits: ExitRecord[] = await fleet.stopAll();
  const webExit = cleanup.web ? await cleanup.web.stop() : undefined;
  cleanup.fleet = undefined;
  cleanup.web = undefined;

  // --- invariants ---------------------------------------------------------------------------
  const checks: Check[] = [];
  checks.push({
    name: `every saga COMPLETED/CANCELLED or flagged with a reason after the load stopped (none ${o.settleSeconds} s without one settling)`,
    ok: settledAfterMs !== null && flaggedWithoutReason === 0,
    detail:
      settledAfterMs !== null
        ? `settled after ${secs(settledAfterMs)}; ${flaggedRows.length} flagged, ${flaggedWithoutReason} without a reason`
        : `${unsettled} still in flight, e.g. ${stuck.map((s) => `${s.saga_id} ${s.state} ${s.current_task}`).join('; ')}`,
  });
  checks.push({
    name: 'every flagged saga could be resolved by an operator (all end COMPLETED/CANCELLED)',
    ok: allTerminal,
    detail: allTerminal
      ? 'no saga left open'
      : 'some sagas still open after 120 s of operator retries/cancels',
  });
  checks.push(scheduleCheck(plan, record));
  checks.push(...(await checkDatabase(sql)));
  checks.push(...(await incidents.checks(sql)));
  checks.push(...(await checkAgainstClient(sql, driver.orders)));
  checks.push(...(await chaosTwo.checks(sql, [...fleet.allExits, ...(webExit ? [webExit] : [])])));
  checks.push(...(await alertDrill.checks(sql, record.kills.length)));
  checks.push({
    name: 'no job left locked by a dead worker; none failed for good; queue drained',
    ok: jobs.lockedByDead === 0 && jobs.failedForGood === 0 && jobs.total === 0,
    detail: `${jobs.total} jobs left, ${jobs.locked} locked (${jobs.lockedByDead} by dead workers), ${jobs.failedForGood} out of attempts${jobs.sample.length ? `: ${jobs.sample.join('; ')}` : ''}`,
  });
  const graceful = record.terms.filter((t) => t.code === 0 && t.lockedAfter === 0).length;
  const badFinal = finalExits.filter((e) => e.code !== 0);
  checks.push({
    name: 'SIGTERM is graceful: workers finish running tasks and exit 0',
    // 143 = 128 + SIGTERM: how a Node server that stops on the signal conventionally exits.
    ok:
      graceful === record.terms.length &&
      badFinal.length === 0 &&
      (!webExit || webExit.code === 0 || webExit.code === 143 || webExit.signal === 'SIGTERM'),
    detail: `${graceful}/${record.terms.length} mid-run SIGTERMs clean (max ${secs(Math.max(0, ...record.terms.map((t) => t.tookMs)))}); final stop: ${finalExits.length - badFinal.length}/${finalExits.length} workers exit 0; web exit ${webExit ? (webExit.code ?? webExit.signal) : 'n/a'}`,
  });
  const byOrder = await sql<
    {
      order_id: string;
      state: string;
      failed_step: string | null;
      flagged: boolean;
      op_cancel: boolean;
    }[]
  >`
    select s.order_id, s.state, s.failed_step,
      exists (select 1 from events e where e.metadata->>'correlationId' = s.saga_id::text and e.type = 'order_fulfillment_saga.intervention_required') as flagged,
      exists (select 1 from events e where e.metadata->>'correlationId' = s.saga_id::text and e.type = 'order_fulfillment_saga.cancel_requested') as op_cancel
    from order_fulfillment_sagas s`;
  await sql.end({ timeout: 5 });
  cleanup.sql = undefined;
  await api.close();

  // Projections equal a fresh replay: replay into a copy of the database, compare every row.
  const copy = `${CHAOS_DB}_replay`;
  await dropDatabase(db.adminUrl, copy);
  const admin = postgres(db.adminUrl, { max: 1, onnotice: () => {} });
  // In the default tablespace: a copy on the drill's small disk (disk-full) would not fit.
  await admin.unsafe(`create database "${copy}" template "${CHAOS_DB}" tablespace pg_default`);
  await admin.end({ timeout: 5 });
  const copyUrl = withDatabase(db.url, copy);
  const replayConn = connect(copyUrl, 2);
  const { replayProjections } = await import('@/db/replay');
  const replayed = await replayProjections(replayConn.db);
  await replayConn.sql.end({ timeout: 5 });
  const diffs = compareDigests(await projectionDigest(db.url), await projectionDigest(copyUrl));
  await dropDatabase(db.adminUrl, copy);
  checks.push({
    name: 'projections equal a fresh replay of the events',
    ok: diffs.length === 0,
    detail:
      diffs.length === 0
        ? `${replayed.events} events → ${replayed.sagas} sagas, 6 tables identical`
        : diffs.slice(0, 3).join('; '),
  });

  // --- report -------------------------------------------------------------------------------
  const k = record.kills;
  const released = k.filter((x) => x.midStep).map((x) => x.releasedAfterMs);
  const slowest = k
    .filter((x) => x.midStep)
    .sort((a, b) => (b.releasedAfterMs ?? Infinity) - (a.releasedAfterMs ?? Infinity))[0];
  const sorted = released.filter((r): r is number => r !== null).sort((a, b) => a - b);
  const median = sorted.length ? secs(sorted[Math.floor(sorted.length / 2)]!) : '-';
  const maxRelease = released.some((r) => r === null)
    ? 'NOT released'
    : `${secs(Math.max(0, ...sorted))} (median ${median}${slowest ? `; slowest killed at ${secs(slowest.at)}` : ''})`;
  const unexpected = fleet.unexpectedExits;
  const opLines = [...record.operator]
    .sort()
    .map(([k2, v]) => `${k2}: ${v}`)
    .join(', ');
  const faultsTable = table(
    ['fault', 'count', 'details'],
    [
      [
        'SIGKILL worker (new one started)',
        k.length,
        `${k.filter((x) => x.midStep).length} mid-step (${k.reduce((n, x) => n + x.lockedJobs, 0)} jobs held); their jobs released after ≤ ${maxRelease}`,
      ],
      [
        'SIGTERM worker (graceful)',
        record.terms.length,
        `exit codes ${[...new Set(record.terms.map((t) => t.code ?? t.signal))].join(',') || '-'}; longest drain ${secs(Math.max(0, ...record.terms.map((t) => t.tookMs)))}`,
      ],
      [
        'PostgreSQL restart',
        record.restarts.length,
        record.restarts
          .map(
            (r) => `${r.mode} at ${secs(r.at)}, down ${secs(r.downMs)}${r.error ? ' FAILED' : ''}`,
          )
          .join(', ') || '-',
      ],
      [
        'pg_terminate_backend (all connections)',
        record.connKills.length,
        `${record.connKills.reduce((n, c) => n + c.backends, 0)} backends terminated`,
      ],
      [
        'poison task (transient rate 1)',
        record.poison.length,
        record.poison
          .map((p) => `${p.task} ${secs(p.from)}–${p.to === null ? '?' : secs(p.to)}`)
          .join(', ') || '-',
      ],
      [
        'operator retry/cancel (racing workers)',
        [...record.operator.values()].reduce((a, b) => a + b, 0),
        opLines || '-',
      ],
      [
        'duplicate submissions (same key)',
        driver.stats.duplicateSubmissions + driver.stats.conflictProbes,
        `${driver.stats.duplicateSubmissions} same body, ${driver.stats.conflictProbes} other body (${driver.stats.conflictProbesRefused} refused 409)`,
      ],
      ...chaosTwo.reportRows(),
      ['worker exits on its own (restarted)', unexpected.length, summarizeExits(unexpected)],
    ],
  );
  const statusLine = [...driver.stats.status]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s === 0 ? 'network error' : s}: ${n}`)
    .join(', ');
  const ordersTable = table(
    ['orders', 'count'],
    [
      ['placed (distinct idempotency keys)', driver.orders.length],
      ['confirmed by the API (201/200)', driver.orders.filter((x) => x.confirmed).length],
      ['not confirmed (client gave up)', driver.stats.unconfirmed],
      ['requests sent', `${driver.stats.requests} (${statusLine})`],
      ['retried after a 5xx/network error', driver.stats.retriedErrors],
      ['retries held back by the retry budget', driver.stats.retriesHeldBack],
      ['unexpected answers', driver.stats.unexpected.length],
    ],
  );
  const outcomeRows = SCENARIOS.map((sc) => {
    const mine = driver.orders.filter((x) => x.scenario === sc);
    const rows = mine
      .map((x) => byOrder.find((b) => b.order_id === x.body.orderId))
      .filter((x) => x !== undefined);
    const cnt = (f: (r: (typeof rows)[number]) => boolean) => rows.filter(f).length;
    return [
      sc,
      mine.length,
      cnt((r) => r.state === 'COMPLETED'),
      cnt((r) => r.state === 'CANCELLED' && !r.op_cancel),
      cnt((r) => r.state === 'CANCELLED' && r.op_cancel),
      cnt((r) => r.flagged),
      cnt((r) => r.state !== 'COMPLETED' && r.state !== 'CANCELLED'),
    ];
  });
  const outcomesTable = table(
    [
      'scenario',
      'orders',
      'COMPLETED',
      'CANCELLED (rule)',
      'CANCELLED (operator)',
      'flagged at some point',
      'open',
    ],
    outcomeRows,
  );
  const checksTable = table(
    ['invariant', 'result', 'details'],
    checks.map((c) => [c.name, c.ok ? 'PASS' : 'FAIL', c.detail]),
  );

  console.log(
    `\n## Chaos drill — seed ${o.seed}, ${o.minutes} min, ${o.rate} orders/s, ${o.workers} workers, transport ${transport}\n`,
  );
  console.log(`### Faults injected\n\n${faultsTable}\n`);
  console.log(`### Orders\n\n${ordersTable}\n`);
  console.log(`### Outcomes\n\n${outcomesTable}\n`);
  console.log(`### Invariants\n\n${checksTable}\n`);
  if (driver.stats.unexpected.length > 0)
    console.log(`unexpected answers:\n  ${driver.stats.unexpected.slice(0, 10).join('\n  ')}\n`);
  const faultErrors = [...record.errors, ...chaosTwo.errors];
  if (faultErrors.length > 0)
    console.log(`fault errors:\n  ${faultErrors.slice(0, 10).join('\n  ')}\n`);
  const failed = checks.filter((c) => !c.ok);
  console.log(
    failed.length === 0
      ? `PASS: all ${checks.length} invariants hold`
      : `FAIL: ${failed.length} of ${checks.length} invariants violated`,
  );
  console.log(`logs: ${path.relative(process.cwd(), logDir)}/`);

  if (o.json) {
    await fs.writeFile(
      o.json,
      JSON.stringify(
        {
          options: { ...o, faults: [...o.faults] },
          checks,
          faults: {
            kills: k,
            terms: record.terms,
            restarts: record.restarts,
            connKills: record.connKills,
            poison: record.poison,
            operator: Object.fromEntries(record.operator),
            workerExits: unexpected,
          },
          orders: {
            placed: driver.orders.length,
            confirmed: driver.orders.filter((x) => x.confirmed).length,
            ...driver.stats,
            status: Object.fromEntries(driver.stats.status),
          },
          outcomes: outcomeRows,
        },
        null,
        2,
      ),
    );
  }
  if (!o.keepDatabase) await dropDatabase(db.adminUrl, CHAOS_DB).catch(() => {});
  if (!o.keepDatabase) await chaosTwo.close(db.adminUrl);
  else log(`--keep-db: the small disk stays mounted at ${chaosTwo.disk?.mountPoint ?? '-'}`);
  cleanup.chaosTwo = undefined;
  await db.stop();
  cleanup.db = undefined;
  void webExit;
  return failed.length === 0 ? 0 : 1;
}

/**
 * Polls `remaining` until it is 0. Gives up when it has not fallen for `idleMs` (at the latest
 * after ten times that in all): a budget that follows progress, so a slow machine is waited
 * for and a stuck count is not. `onProgress` hears a new low at most every 5 s.
 */
async function untilDone(
  remaining: () => Promise<number>,
  idleMs: number,
  onProgress?: (n: number) => void,
  everyMs = 500,
): Promise<{ done: boolean; left: number }> {
  const start = Date.now();
  let fewest = Infinity;
  let fellAt = start;
  let toldAt = 0;
  for (;;) {
    const left = await remaining();
    if (left === 0) return { done: true, left };
    if (left >= 0 && left < fewest) {
      fewest = left;
      fellAt = Date.now();
      if (fellAt - toldAt > 5000) {
        onProgress?.(left);
        toldAt = fellAt;
      }
    }
    if (Date.now() - fellAt > idleMs || Date.now() - start > idleMs * 10)
      return { done: false, left };
    await sleep(everyMs);
  }
}

function summarizeExits(exits: ExitRecord[]): string {
  if (exits.length === 0) return 'none';
  const byCause = new Map<string, number>();
  for (const e of exits) {
    const last =
      e.lastLines
        .split('\n')
        .reverse()
        .find((l) => /"level":(50|60)|Error/.test(l)) ?? '';
    const msg = (
      /"message":"([^"]{0,70})/.exec(last)?.[1] ??
      /"msg":"([^"]{0,70})/.exec(last)?.[1] ??
      last.slice(0, 70)
    ).trim();
    const key = `${e.signal ?? `code ${e.code}`}${msg ? `: ${msg}` : ''}`;
    byCause.set(key, (byCause.get(key) ?? 0) + 1);
  }
  return [...byCause].map(([c, n]) => `${n}× ${c}`).join('; ');
}

async function printProgress(
  sql: postgres.Sql,
  driver: LoadDriver,
  fleet: WorkerFleet,
  r: ReturnType<typeof emptyFaultLog>,
): Promise<void> {
  const [row] = await sql<{ done: number; flight: number; flagged: number; jobs: number }[]>`
    select count(*) filter (where saga_state_is_terminal(state))::int as done,
           count(*) filter (where not saga_state_is_terminal(state) and not needs_intervention)::int as flight,
           count(*) filter (where needs_intervention)::int as flagged,
           (select count(*)::int from graphile_worker.jobs) as jobs
    from order_fulfillment_sagas`;
  const confirmed = driver.orders.filter((x) => x.confirmed).length;
  const answers = [...driver.stats.status]
    .sort(([a], [b]) => a - b)
    .map(([status, n]) => `${status === 0 ? 'none' : status}×${n}`)
    .join(' ');
  log(
    `orders ${confirmed}/${driver.orders.length} confirmed (${driver.pending} pending; answers ${answers || '-'}) · sagas ${row?.done} done, ${row?.flight} in flight, ${row?.flagged} flagged · jobs ${row?.jobs} · workers ${fleet.list.length} · ` +
      `faults: ${r.kills.length} kill, ${r.terms.length} term, ${r.restarts.length} pg restart, ${r.connKills.length} conn kill`,
  );
}

async function emergencyCleanup(): Promise<void> {
  await Promise.allSettled([cleanup.fleet?.stopAll(), cleanup.web?.stop(5000)]);
  await cleanup.sql?.end({ timeout: 2 }).catch(() => {});
  await cleanup.api?.close().catch(() => {});
  await cleanup.alerts?.close().catch(() => {});
  await cleanup.chaosTwo?.links?.close().catch(() => {});
  if (cleanup.chaosTwo?.disk) await dropDatabase(cleanup.adminUrl!, CHAOS_DB).catch(() => {});
  await cleanup.chaosTwo?.disk?.remove(cleanup.adminUrl).catch(() => {});
  await cleanup.db?.stop().catch(() => {});
  await cleanup.chaosTwo?.disk?.remove(undefined).catch(() => {});
}

runDrill('drill', main, emergencyCleanup, log);
