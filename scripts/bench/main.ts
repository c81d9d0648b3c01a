import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { openBenchDatabase, isDurable } from './database';
import { round, table } from './report';
import { runSagaBench, type RunResult, type SagaBenchResult } from './run';
import { stopWebProcesses, WebBuildError } from './web';

const USAGE = `npm run bench -- [options]

  Saga bench (default): the floor, a drain with 1 then 2 worker processes, and a run at a fixed
  offered rate, all on one database (DATABASE_URL, or an embedded one under .data/bench-pg).
    --sagas N            orders per drain and floor run (default 3000)
    --workers N          drain with N worker processes only (default: 1 and 2, for the scale-out ratio)
    --concurrency N      WORKER_CONCURRENCY of each worker process (default: the app's default)
    --rate R             offered sagas/s of the latency run (default 25; 0 skips it)
    --rate-seconds S     length of the latency run (default 20)
    --mix                include every failure path (prescription, inventory, shipment, retried shipment)
    --no-floor           skip the floor
    --no-drain           skip the drain runs
    --no-web             skip the memory run. By default, after the throughput runs, one more drain
                         with 1 worker runs beside the web app (next start on its production build,
                         built first when missing or stale) and one open dashboard (the live event
                         stream, and its reads every 2 s): the memory target is web + one worker
                         while draining
    --floor-concurrency N  sagas in flight in the floor (default 8)
    --group-commit N     one more drain (1 worker) with group commit: up to N sagas waiting for the
                         same task run it in one transaction (RXSAGA_GROUP_COMMIT); its own run

  Dashboard bench:
    --dashboard          load a 90-day history (default 1,000,000 sagas, ~9 M events), then time the
                         dashboard's read paths
    --sagas N            sagas to load
    --reload             load again even when a history of that size is already there
    --repeat N           timed calls per read path (default 30)
    --compare FILE       the --json of an earlier run on a smaller history: prints each call's p50
                         and p95 ratio to it (goal: ≤ 1.5×) and adds them to --json as "growth"

  Archive bench:
    --archive            load a history that ended 100 days ago (default 100,000 sagas), archive it,
                         restore one saga: throughput (goal ≥ 10,000 sagas/s) and restore time
    --sagas N            sagas to load

  Bulk-operation bench:
    --bulk N             N sagas flagged at the shipment, then one bulk cancel of all of them while
                         new orders arrive at --rate per second (default 10); prints the time to
                         finish and the new sagas' p95 during it against a quiet run
    --workers N          worker processes (default 1)

  Output:
    --json FILE          write the figures as JSON
`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sagas: { type: 'string' },
      workers: { type: 'string' },
      concurrency: { type: 'string' },
      rate: { type: 'string' },
      'rate-seconds': { type: 'string' },
      mix: { type: 'boolean', default: false },
      'no-floor': { type: 'boolean', default: false },
      'no-drain': { type: 'boolean', default: false },
      'no-web': { type: 'boolean', default: false },
      'floor-concurrency': { type: 'string' },
      'group-commit': { type: 'string' },
      dashboard: { type: 'boolean', default: false },
      archive: { type: 'boolean', default: false },
      bulk: { type: 'string' },
      reload: { type: 'boolean', default: false },
      repeat: { type: 'string' },
      compare: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const int = (name: string, raw: string | undefined, fallback: number, min = 0) => {
    if (raw === undefined) return fallback;
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name}: expected an integer ≥ ${min}, got "${raw}"`);
    return n;
  };
  const log = (m: string) => console.error(`[bench] ${m}`);

  const db = await openBenchDatabase(log);
  // Ctrl-C: a running build and the web app are ours to stop (the workers stop with the group).
  const stopOnSignal = () =>
    void stopWebProcesses()
      .finally(() => db.stop())
      .finally(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    log(
      `PostgreSQL ${db.settings.server_version}: fsync=${db.settings.fsync}, synchronous_commit=${db.settings.synchronous_commit}` +
        `${isDurable(db.settings) ? '' : '  (NOT DURABLE: figures are not comparable)'}`,
    );
    if (values.archive) {
      const { runArchiveBench, printArchiveBench } = await import('./archive');
      const result = await runArchiveBench({
        url: db.url,
        admin: db.admin,
        sagas: int('sagas', values.sagas, 100_000, 100),
        log,
      });
      printArchiveBench(result);
      if (values.json) await writeJson(values.json, result, log);
      return 0;
    }
    if (values.bulk !== undefined) {
      const { runBulkBench, printBulkBench } = await import('./bulk');
      const options = {
        url: db.url,
        admin: db.admin,
        sagas: int('bulk', values.bulk, 10_000, 1),
        workers: int('workers', values.workers, 1, 1),
        rate: int('rate', values.rate, 10, 1),
        quietSeconds: int('rate-seconds', values['rate-seconds'], 20, 1),
        dataDirectory: db.dataDirectory,
        log,
      };
      const result = await runBulkBench(options);
      printBulkBench(result, options);
      if (values.json) await writeJson(values.json, result, log);
      return result.ok ? 0 : 1;
    }
    if (values.dashboard) {
      const { runDashboardBench, printDashboard } = await import('./dashboard');
      const { compareDashboards, printGrowth } = await import('./growth');
      // Read first: a missing or malformed file fails before an hour of loading.
      const before = values.compare
        ? (JSON.parse(await readFile(values.compare, 'utf8')) as Parameters<
            typeof compareDashboards
          >[1])
        : undefined;
      const result = await runDashboardBench({
        url: db.url,
        admin: db.admin,
        sagas: int('sagas', values.sagas, 1_000_000, 100),
        reload: values.reload,
        repeat: int('repeat', values.repeat, 30, 1),
        log,
      });
      printDashboard(result);
      const growth = before ? compareDashboards(result, before) : undefined;
      if (growth) printGrowth(growth, result, before!);
      if (values.json) await writeJson(values.json, { ...result, growth }, log);
      return result.ok && (growth ?? []).every((g) => g.met) ? 0 : 1;
    }
    const workers = values.workers === undefined ? [1, 2] : [int('workers', values.workers, 1, 1)];
    const result = await runSagaBench({
      web: !values['no-web'],
      url: db.url,
      admin: db.admin,
      settings: db.settings,
      dataDirectory: db.dataDirectory,
      sagas: int('sagas', values.sagas, 3000, 1),
      workerCounts: workers,
      concurrency:
        values.concurrency === undefined ? undefined : int('concurrency', values.concurrency, 4, 1),
      mix: values.mix,
      floor: !values['no-floor'],
      drain: !values['no-drain'],
      rate: int('rate', values.rate, 25, 0),
      rateSeconds: int('rate-seconds', values['rate-seconds'], 20, 1),
      floorConcurrency: int('floor-concurrency', values['floor-concurrency'], 8, 1),
      groupCommit:
        values['group-commit'] === undefined
          ? undefined
          : int('group-commit', values['group-commit'], 8, 2),
      log,
    }).catch((err: unknown) => {
      if (!(err instanceof WebBuildError)) throw err;
      log(err.message);
      return undefined;
    });
    if (!result) return 1;
    printSagaBench(result);
    if (values.json) await writeJson(values.json, result, log);
    return result.correct ? 0 : 1;
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await db.admin.end({ timeout: 5 });
    await db.stop();
  }
}

async function writeJson(file: string, data: unknown, log: (m: string) => void) {
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  log(`figures written to ${file}`);
}

function printSagaBench(r: SagaBenchResult): void {
  const m = r.machine as Record<string, string | number>;
  console.log(
    `\nRxSaga bench — ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, PostgreSQL ${m.postgres} ` +
      `(fsync=${m.fsync}, synchronous_commit=${m.synchronousCommit}, wal_sync_method=${m.walSyncMethod})\n`,
  );
  const runs = [r.floor, ...r.drains, r.groupCommit, r.rate, r.memory].filter(
    (x): x is RunResult => !!x,
  );
  const name = (x: RunResult) =>
    x === r.groupCommit
      ? `drain, 1 worker${x.concurrency ? ` × ${x.concurrency}` : ''}, group commit ${r.groupCommit.groupCommit}`
      : x.mode === 'floor'
        ? `floor (plain tx, ${x.concurrency} in flight)`
        : x.mode === 'rate'
          ? `rate ${x.offeredPerSecond}/s, ${x.workers} worker${x.workers > 1 ? 's' : ''}`
          : x.mode === 'memory'
            ? 'memory: drain, 1 worker + web'
            : `drain, ${x.workers} worker${x.workers > 1 ? 's' : ''}${x.concurrency ? ` × ${x.concurrency}` : ''}`;
  console.log(
    table(
      [
        'run',
        'sagas',
        'seconds',
        'sagas/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'CPU ms/saga',
        'machine CPU %',
        'worker RSS MB',
        'web RSS MB',
        'web+worker RSS MB',
        'stmts/saga',
        'tx ctl/saga',
        'round trips/saga',
        'round trips/task',
        'correct',
      ],
      runs.map((x) => [
        name(x),
        x.sagas,
        x.seconds,
        x.sagasPerSecond,
        x.p50Ms,
        x.p95Ms,
        x.p99Ms,
        x.cpuMsPerSaga,
        x.machineCpuPct,
        x.peakWorkerRssMb ?? '-',
        x.webRssMb ?? '-',
        x.webPlusWorkerRssMb ?? '-',
        x.wire?.statementsPerSaga ?? '-',
        x.wire?.transactionControlPerSaga ?? '-',
        x.wire?.roundTripsPerSaga ?? '-',
        x.wire?.roundTripsPerTask ?? '-',
        x.correctness.ok ? 'yes' : 'NO',
      ]),
    ),
  );
  console.log(
    '\nCPU split (ms): ' +
      runs
        .map(
          (x) =>
            `${name(x)}: ${Object.entries(x.cpuMs)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}`,
        )
        .join(' | '),
  );
  console.log(
    "\nstmts/saga: statements sent to PostgreSQL per saga (createOrder + the workers, graphile-worker's\n" +
      "own included; BEGIN/COMMIT counted apart as tx ctl). round trips/task: the workers' waits on\n" +
      'the server per task run (floor: per step). Counted on the wire, not timed: they do not move\n' +
      "with the machine's load.",
  );
  const target = (ok: boolean | null) => (ok === null ? 'n/a' : ok ? 'met' : 'MISSED');
  console.log(`
headline                     value     target
throughput (best drain)      ${fmt(r.sagasPerSecond)} sagas/s (${r.headlineWorkers ?? '-'} worker(s))
floor                        ${fmt(r.floorSagasPerSecond)} sagas/s
ratio to floor               ${fmt(r.ratioToFloor)}     ≥ 0.5: ${target(r.ratioToFloor === null ? null : r.ratioToFloor >= 0.5)}${r.groupCommit ? `\ngroup commit ${r.groupCommit.groupCommit} (own run)     ${fmt(r.groupCommit.sagasPerSecond)} sagas/s, ratio to floor ${fmt(r.groupCommit.ratioToFloor)}, CPU ${fmt(r.groupCommit.cpuMsPerSaga)} ms/saga` : ''}
CPU per saga                 ${fmt(r.cpuMsPerSaga)} ms    ≤ 10 ms: ${target(r.cpuMsPerSaga === null ? null : r.cpuMsPerSaga <= 10)}
latency p50 / p95 / p99      ${fmt(r.p50Ms)} / ${fmt(r.p95Ms)} / ${fmt(r.p99Ms)} ms    p50 ≤ 20, p95 ≤ 40: ${target(r.p50Ms === null || !r.rate ? null : r.p50Ms <= 20 && (r.p95Ms ?? Infinity) <= 40)}
memory (web + 1 worker peak)   ${r.webPlusWorkerRssMb === null ? '-' : `${r.webPlusWorkerRssMb} MB`}    ≤ 600 MB: ${target(r.webPlusWorkerRssMb === null ? null : r.webPlusWorkerRssMb <= 600)}
scale-out (2 vs 1 worker)    ${r.scaleOut ? `${fmt(r.scaleOut.ratio)}×` : '-'}     > 1: ${target(r.scaleOut ? r.scaleOut.ratio > 1 : null)}${r.scaleOut ? `   (machine CPU busy: ${r.scaleOut.machineCpuPct.oneWorker} % with 1 worker, ${r.scaleOut.machineCpuPct.workers} % with ${r.scaleOut.workers})` : ''}
correctness                  ${r.correct ? 'every saga finished as expected, no step twice, no job left' : 'FAILED'}`);
  for (const x of runs) {
    for (const p of x.correctness.problems) console.log(`  ${name(x)}: ${p}`);
  }
}

const fmt = (n: number | null) => (n === null ? '-' : String(round(n, 2)));
