import { parseArgs } from 'node:util';

/**
 * Options of `npm run chaos`. Fault counts default to what a run of this length should carry
 * (a 3-minute run: 27 SIGKILLs, 3 SIGTERMs, 2 database restarts, 6 connection kills).
 */

export const FAULT_KINDS = [
  'sigkill',
  'sigterm',
  'pg-restart',
  'pg-terminate',
  'operator',
  'poison',
  'duplicates',
  // Chaos II (scripts/chaos/chaos-two.ts, docs/chaos.md)
  'net-latency',
  'net-partition',
  'disk-full',
  'clock-skew',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  minutes: number;
  /** Orders per second (new orders; duplicates come on top). */
  rate: number;
  seed: number;
  workers: number;
  workerConcurrency: number;
  /** RXSAGA_GROUP_COMMIT of each worker (1: off). */
  groupCommit: number;
  faults: Set<FaultKind>;
  /** --faults was given: a fault named there that cannot run stops the drill instead of being left out. */
  faultsNamed: boolean;
  kills: number;
  terms: number;
  pgRestarts: number;
  connKills: number;
  /** clock-skew: how far the skewed workers' clocks are off (ahead, then behind). */
  skewSeconds: number;
  /** disk-full: size of the database's small filesystem. */
  diskMb: number;
  /** After the load stops: how long the drill waits for the next saga to reach COMPLETED/CANCELLED or be flagged. */
  settleSeconds: number;
  port: number;
  pgPort: number;
  /** Embedded cluster directory (ours by default), or the data dir of DATABASE_URL's server for pg_ctl. */
  pgDataDir: string | undefined;
  /** 'http' through the web app (the real thing); 'direct' calls the commands in this process. */
  transport: 'http' | 'direct';
  keepDatabase: boolean;
  verbose: boolean;
  json: string | undefined;
}

const HELP = `npm run chaos -- [options]

Runs PostgreSQL, the web app and several workers on this machine, drives orders through the
HTTP API, injects faults on a schedule, waits for quiescence and checks the invariants.
Exit code 0 only when every invariant holds.

  --minutes <n>        length of the load + fault phase (default 3)
  --rate <n>           new orders per second (default 4)
  --seed <n>           seed of every random choice (default: time-based; printed)
  --workers <n>        worker processes kept running (default 2)
  --concurrency <n>    WORKER_CONCURRENCY of each worker (default 4)
  --group-commit <n>   RXSAGA_GROUP_COMMIT of each worker (default 1: off; docs/write-path.md)
  --faults <list>      comma list of ${FAULT_KINDS.join(', ')} (default: all); "none" for none
  --kills <n>          SIGKILLs of a worker (default 9 per minute)
  --terms <n>          SIGTERMs of a worker (default 1 per minute)
  --pg-restarts <n>    PostgreSQL restarts (default 2; fast, then immediate shutdown)
  --conn-kills <n>     pg_terminate_backend of every connection (default 2 per minute, at least 5)
  --skew-seconds <n>   clock-skew: how far ahead/behind the skewed workers' clocks run (default 180)
  --disk-mb <n>        disk-full: size of the tmpfs the drill database lives on (default 128; root)
  --settle <s>         after the load stops, give up when no saga settled for this long (default 90)
  --port <n>           web port on 127.0.0.1 (default 3917, or the next free one)
  --pg-port <n>        embedded PostgreSQL port (default 54347, or the next free one)
  --pg-data-dir <dir>  embedded cluster directory (default .data/chaos-pg); with DATABASE_URL,
                       the server's data directory, restarted with pg_ctl
  --transport <t>      http (default) or direct (no web app: commands called in this process)
  --keep-db            keep the drill database afterwards (it is dropped by default)
  --json <file>        also write the results as JSON
  --verbose            show worker and web output
`;

export function parseChaosOptions(argv: string[]): ChaosOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      workers: { type: 'string' },
      concurrency: { type: 'string' },
      'group-commit': { type: 'string' },
      faults: { type: 'string' },
      kills: { type: 'string' },
      terms: { type: 'string' },
      'pg-restarts': { type: 'string' },
      'conn-kills': { type: 'string' },
      'skew-seconds': { type: 'string' },
      'disk-mb': { type: 'string' },
      settle: { type: 'string' },
      port: { type: 'string' },
      'pg-port': { type: 'string' },
      'pg-data-dir': { type: 'string' },
      transport: { type: 'string' },
      'keep-db': { type: 'boolean' },
      json: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const num = (
    name: string,
    raw: string | undefined,
    fallback: number,
    min: number,
    max: number,
  ) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new Error(`--${name}: expected a number from ${min} to ${max}, got "${raw}"`);
    return n;
  };
  const minutes = num('minutes', values.minutes, 3, 0.1, 240);
  const faults = new Set<FaultKind>();
  const list = values.faults ?? FAULT_KINDS.join(',');
  if (list !== 'none') {
    for (const f of list
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (!(FAULT_KINDS as readonly string[]).includes(f))
        throw new Error(`--faults: unknown fault "${f}" (known: ${FAULT_KINDS.join(', ')})`);
      faults.add(f as FaultKind);
    }
  }
  const transport = values.transport ?? 'http';
  if (transport !== 'http' && transport !== 'direct')
    throw new Error(`--transport: http or direct, got "${transport}"`);
  const int = (name: string, raw: string | undefined, fallback: number, min: number, max: number) =>
    Math.round(num(name, raw, fallback, min, max));
  return {
    minutes,
    rate: num('rate', values.rate, 4, 0.1, 200),
    seed: int('seed', values.seed, Date.now() % 1_000_000, 0, 2 ** 31),
    workers: int('workers', values.workers, 2, 1, 32),
    workerConcurrency: int('concurrency', values.concurrency, 4, 1, 64),
    groupCommit: int('group-commit', values['group-commit'], 1, 1, 64),
    faults,
    faultsNamed: values.faults !== undefined,
    kills: int('kills', values.kills, Math.round(minutes * 9), 0, 10_000),
    terms: int('terms', values.terms, Math.max(1, Math.round(minutes)), 0, 10_000),
    pgRestarts: int('pg-restarts', values['pg-restarts'], 2, 0, 100),
    connKills: int(
      'conn-kills',
      values['conn-kills'],
      Math.max(5, Math.round(minutes * 2)),
      0,
      10_000,
    ),
    skewSeconds: num('skew-seconds', values['skew-seconds'], 180, 1, 86_400),
    diskMb: int('disk-mb', values['disk-mb'], 128, 32, 4096),
    settleSeconds: num('settle', values.settle, 90, 5, 3600),
    port: int('port', values.port, 3917, 1024, 65535),
    pgPort: int('pg-port', values['pg-port'], 54347, 1024, 65535),
    pgDataDir: values['pg-data-dir'],
    transport,
    keepDatabase: values['keep-db'] ?? false,
    verbose: values.verbose ?? false,
    json: values.json,
  };
}
