import path from 'node:path';
import type postgres from 'postgres';
import type { ApiResponse, ChaosApi } from './api';
import type { ExitRecord, WorkerFleet } from './cluster';
import { runSkewedWorker, type SkewRecord } from './clock-skew';
import {
  diskFull,
  diskFullUnavailable,
  SmallDisk,
  TABLESPACE,
  type DiskFullRecord,
} from './disk-full';
import type { Check } from './invariants';
import { netLatency, netPartition, type LatencyRecord, type PartitionRecord } from './net-faults';
import { NetLinks } from './net-proxy';
import type { FaultLane } from './faults';
import type { ChaosOptions, FaultKind } from './options';
import { secs } from './report';
import { makeRng, sleep } from './rng';
import { IDLE_IN_TRANSACTION_TIMEOUT_MS } from '@/db/client';

/**
 * Chaos II: the network, a full disk and a skewed clock (docs/chaos.md). Its faults run on a
 * timeline of their own, alongside the drill's process faults; this module owns their set-up,
 * their rows in the drill's table and the invariants they call for. The main loop (chaos.ts)
 * only asks it for the environment of each process, starts it, and collects.
 */

const CHAOS_TWO_FAULTS: readonly FaultKind[] = [
  'net-latency',
  'net-partition',
  'disk-full',
  'clock-skew',
];

type Log = (m: string) => void;

export interface ChaosTwoSettings {
  deadSeconds: number;
  stallSeconds: number;
  retryBaseMs: number;
}

export class ChaosTwo {
  readonly links: NetLinks | undefined;
  readonly disk: SmallDisk | undefined;
  /** Why disk-full was not run, when it was asked for (in the default list) but cannot be. */
  readonly diskNotRun: string | null = null;
  readonly latency: LatencyRecord[] = [];
  readonly partitions: PartitionRecord[] = [];
  readonly disks: DiskFullRecord[] = [];
  readonly skews: SkewRecord[] = [];
  readonly errors: string[] = [];
  private listener: ((r: ApiResponse, kind: string) => void) | null = null;
  private t0 = 0;

  constructor(
    private readonly o: ChaosOptions,
    private readonly settings: ChaosTwoSettings,
    pgPort: number,
    dataDir: string,
    external: boolean,
    explicitFaults: boolean,
    private readonly log: Log,
  ) {
    const net = o.faults.has('net-latency') || o.faults.has('net-partition');
    this.links = net ? new NetLinks(pgPort, makeRng(o.seed ^ 0x7e7)) : undefined;
    if (o.faults.has('disk-full')) {
      const why = diskFullUnavailable(external);
      if (why && explicitFaults)
        throw new Error(`--faults disk-full: it ${why}; leave it out of --faults to run the rest`);
      if (why) {
        this.diskNotRun = why;
        o.faults.delete('disk-full');
        log(`disk-full NOT RUN: it ${why}`);
      } else this.disk = new SmallDisk(`${dataDir}-small-disk`, o.diskMb, dataDir);
    }
  }

  get active(): boolean {
    return CHAOS_TWO_FAULTS.some((f) => this.o.faults.has(f));
  }

  /** Before the drill database is created: links ready, the small disk mounted. */
  async prepare(adminUrl: string, database: string): Promise<string | undefined> {
    await this.links?.ready();
    if (!this.disk) return undefined;
    await this.disk.prepare(adminUrl, database);
    this.log(
      `disk-full: the drill database lives on a ${this.disk.sizeMb} MB tmpfs (${this.disk.mountPoint})`,
    );
    return TABLESPACE;
  }

  /**
   * Records every heartbeat row removed, with the database's clock: whether the worker was dead
   * by the threshold when a sweeper released it (a drill-only table, not in the replay check).
   */
  async instrument(sql: postgres.Sql): Promise<void> {
    await sql.unsafe(`
      create table chaos_heartbeat_removals (pool_id text, pid int, last_seen_at timestamptz,
        removed_at timestamptz not null default clock_timestamp(), by_sweeper boolean not null);
      create function chaos_record_heartbeat_removal() returns trigger language plpgsql as $$
      begin
        -- The sweeper's release deletes by age; a stopping worker deletes its own row by pool id.
        insert into chaos_heartbeat_removals (pool_id, pid, last_seen_at, by_sweeper)
        values (old.pool_id, old.pid, old.last_seen_at, current_query() ilike '%last_seen_at <%');
        return old;
      end $$;
      create trigger chaos_heartbeat_removal after delete on worker_heartbeats
        for each row execute function chaos_record_heartbeat_removal();`);
  }

  /** DATABASE_URL of process `name`: through its own network link when net faults run. */
  envFor(name: string, databaseUrl: string): Record<string, string> {
    return this.links ? { DATABASE_URL: this.links.take(name).url(databaseUrl) } : {};
  }

  /** The API as the load driver uses it, its order answers also seen by the disk-full fault. */
  watch(api: ChaosApi): ChaosApi {
    const tap = (kind: string, p: Promise<ApiResponse>) =>
      p.then((r) => {
        this.listener?.(r, kind);
        return r;
      });
    return {
      ...api,
      kind: api.kind,
      createOrder: (body, key) => tap('createOrder', api.createOrder(body, key)),
      close: () => api.close(),
    };
  }

  /** The timeline: latency, then a partition, then a full disk; skewed workers throughout. */
  async run(ctx: {
    sql: postgres.Sql;
    fleet: WorkerFleet;
    env: NodeJS.ProcessEnv;
    databaseUrl: string;
    logDir: string;
    t0: number;
    durationMs: number;
    lane: FaultLane;
  }): Promise<void> {
    this.t0 = ctx.t0;
    const D = ctx.durationMs;
    const at = (f: number) => sleep(Math.max(0, ctx.t0 + D * f - Date.now()));
    // A fault whose start fails (its first query met a database that was not there) is tried
    // again: every fault asked for must run, and the checks say when one did not.
    const guard = async (what: string, fn: () => Promise<void>) => {
      for (let attempt = 1; ; attempt++) {
        try {
          await fn();
          return;
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          this.log(`${what} failed (attempt ${attempt} of 3): ${message}`);
          if (attempt >= 3) {
            this.errors.push(`${what}: ${message}`);
            return;
          }
          await sleep(3000);
        }
      }
    };
    const net = {
      sql: ctx.sql,
      links: this.links!,
      fleet: ctx.fleet,
      rng: makeRng(this.o.seed ^ 0x9a27),
      log: this.log,
      t0: ctx.t0,
    };
    const skewMs = this.o.skewSeconds * 1000;
    const skewed = async (name: string, offset: number, from: number, to: number) => {
      await at(from);
      const env = { ...ctx.env, ...this.envFor(name, ctx.databaseUrl) };
      await guard('clock-skew', async () => {
        this.skews.push(
          await runSkewedWorker(
            ctx.sql,
            name,
            offset,
            env,
            path.join(ctx.logDir, `${name}.log`),
            D * (to - from),
            ctx.t0,
            this.log,
          ),
        );
      });
    };
    const timeline = async () => {
      if (this.o.faults.has('net-latency')) {
        await at(0.1);
        await guard(
          'net-latency',
          async () => void this.latency.push(await netLatency(net, Math.max(8000, D * 0.2))),
        );
      }
      if (this.o.faults.has('net-partition')) {
        await at(0.35);
        // Longer than the dead-worker threshold, so the others must take its jobs over.
        // Longer than the dead-worker threshold, and than the server's idle-in-transaction
        // timeout: a worker cut off mid-transaction holds its locks until the server ends it.
        const cutMs =
          Math.max(this.settings.deadSeconds * 1000, IDLE_IN_TRANSACTION_TIMEOUT_MS) +
          Math.max(5000, D * 0.05);
        await guard('net-partition', () =>
          ctx.lane.run(async () => {
            const rec = await netPartition(net, cutMs);
            if (!rec) throw new Error('no worker to cut off');
            this.partitions.push(rec);
          }),
        );
      }
      if (this.disk) {
        await at(0.6);
        const disk = this.disk;
        await guard('disk-full', () =>
          ctx.lane.run(async () => {
            this.disks.push(
              await diskFull(
                disk,
                (l) => (this.listener = l),
                Math.max(8000, D * 0.1),
                ctx.t0,
                this.log,
              ),
            );
          }),
        );
      }
    };
    await Promise.all([
      timeline(),
      this.o.faults.has('clock-skew') ? skewed('skewed-ahead', skewMs, 0.05, 0.5) : null,
      this.o.faults.has('clock-skew') ? skewed('skewed-behind', -skewMs, 0.5, 0.95) : null,
    ]);
  }

  /** Rows of the drill's "Faults injected" table. */
  reportRows(): (string | number)[][] {
    const rows: (string | number)[][] = [];
    const o = this.o;
    if (o.faults.has('net-latency'))
      rows.push([
        'net-latency (proxy: latency ± jitter, loss)',
        this.latency.length,
        this.latency
          .map(
            (l) =>
              `${secs(l.from)}–${l.to === null ? '?' : secs(l.to)} at ${l.conditions.latencyMs}±${l.conditions.jitterMs} ms, ${l.conditions.loss * 100} % loss: ${l.chunks} chunks, mean +${l.meanDelayMs.toFixed(0)} ms, ${l.lost} lost and resent; ${l.finishedDuring} sagas finished meanwhile`,
          )
          .join('; ') || 'NOT RUN',
      ]);
    if (o.faults.has('net-partition'))
      rows.push([
        'net-partition (one worker cut off)',
        this.partitions.length,
        this.partitions
          .map((p) => {
            const s = (ms: number | null) => (ms === null ? 'NEVER' : secs(ms));
            return `${p.worker} cut ${secs(p.cutMs)} at ${secs(p.at)} holding ${p.lockedAtCut} jobs: released to the others after ${s(p.releasedAfterMs)}, ${p.finishedDuring} sagas finished meanwhile; after the heal it beat again in ${s(p.beatAgainAfterMs)} and took jobs in ${s(p.workedAgainAfterMs)}, ${p.samePidAtEnd ? 'same process (no restart)' : 'it did NOT recover by itself'}`;
          })
          .join('; ') || 'NOT RUN',
      ]);
    if (o.faults.has('disk-full') || this.diskNotRun)
      rows.push([
        'disk-full (database on a full tmpfs)',
        this.disks.length,
        this.diskNotRun
          ? `NOT RUN: it ${this.diskNotRun}`
          : this.disks
              .map((d) => {
                const st = [...d.statuses]
                  .sort(([a], [b]) => a - b)
                  .map(([s, n]) => `${s === 0 ? 'network error' : s}: ${n}`)
                  .join(', ');
                return `${d.sizeMb} MB full for ${secs(d.heldMs)} at ${secs(d.at)}: new orders answered ${st || 'nothing'}${d.example ? ` ("${d.example}")` : ''}; first order confirmed ${d.recoveredAfterMs === null ? 'NEVER' : `${secs(d.recoveredAfterMs)}`} after space returned, nothing restarted by hand (${d.workerExits ?? 0} worker exits, restarted by the fleet)`;
              })
              .join('; ') || 'NOT RUN',
      ]);
    if (o.faults.has('clock-skew'))
      rows.push([
        'clock-skew (a worker minutes off)',
        this.skews.length,
        this.skews
          .map(
            (s) =>
              `${s.name} ${s.offsetMs > 0 ? '+' : '−'}${Math.abs(s.offsetMs) / 1000} s (its log: ${s.seenOffsetMs === null ? '?' : `${s.seenOffsetMs > 0 ? '+' : '−'}${(Math.abs(s.seenOffsetMs) / 1000).toFixed(0)} s`} incl. start-up) ${secs(s.from)}–${s.to === null ? '?' : secs(s.to)}, held jobs in ${s.busySamples}/${s.samples} samples, exit ${s.exitCode}${s.ownExit ? ` ${s.ownExit}` : ''}`,
          )
          .join('; ') || 'NOT RUN',
      ]);
    return rows;
  }

  /** The invariants chaos II adds; they hold in every run, whatever faults were injected. */
  async checks(sql: postgres.Sql, exits: readonly ExitRecord[]): Promise<Check[]> {
    const { deadSeconds, stallSeconds, retryBaseMs } = this.settings;
    const checks: Check[] = [];
    const runs: [FaultKind, number, number][] = (
      [
        ['net-latency', this.latency.length, 1],
        ['net-partition', this.partitions.length, 1],
        ['disk-full', this.disks.length, 1],
        ['clock-skew', this.skews.length, 2],
      ] as [FaultKind, number, number][]
    ).filter(([f]) => this.o.faults.has(f));
    if (runs.length > 0)
      checks.push({
        name: 'every chaos II fault asked for ran',
        ok: runs.every(([, ran, planned]) => ran >= planned),
        detail: runs.map(([f, ran, planned]) => `${f} ${ran}/${planned}`).join(', '),
      });
    const removals = await sql<{ pid: number; lag: number }[]>`
      select pid, extract(epoch from removed_at - last_seen_at)::float8 as lag from chaos_heartbeat_removals where by_sweeper`;
    const early = removals.filter((r) => r.lag < deadSeconds);
    checks.push({
      name: `no live worker released: every worker a sweeper released had not beaten for ${deadSeconds} s (database clock)`,
      ok: early.length === 0,
      detail:
        early.length === 0
          ? `${removals.length} released by a sweeper, the soonest ${removals.length ? Math.min(...removals.map((r) => r.lag)).toFixed(1) : '-'} s after its last beat`
          : `${early.length} released while alive, e.g. ${early
              .slice(0, 3)
              .map((r) => `PID ${r.pid} ${r.lag.toFixed(1)} s after its beat`)
              .join('; ')}`,
    });
    const stalled = await sql<{ saga: string; idle: number | null }[]>`
      select f.metadata->>'correlationId' as saga,
        extract(epoch from f.recorded_at - (
          select max(p.recorded_at) from events p
          where p.metadata->>'correlationId' = f.metadata->>'correlationId' and p.position < f.position))::float8 as idle
      from events f
      where f.type = 'order_fulfillment_saga.intervention_required' and f.payload->>'reason' like 'stalled:%'`;
    const healthy = stalled.filter((s) => s.idle === null || s.idle < stallSeconds);
    checks.push({
      name: `no healthy saga flagged as stalled (each had no progress for ${stallSeconds} s, database clock)`,
      ok: healthy.length === 0,
      detail:
        healthy.length === 0
          ? `${stalled.length} flagged as stalled, all idle long enough`
          : `${healthy.length}, e.g. ${healthy
              .slice(0, 3)
              .map((h) => `${h.saga} after ${h.idle?.toFixed(1)} s`)
              .join('; ')}`,
    });
    const retries = await sql<{ saga: string; off: number }[]>`
      select metadata->>'correlationId' as saga,
        (extract(epoch from ((payload->>'retryAt')::timestamptz - date_trunc('milliseconds', recorded_at))) * 1000
          - ${retryBaseMs}::float8 * 2 ^ ((payload->>'attempt')::int - 1))::float8 as off
      from events where type = 'order_fulfillment_saga.attempt_failed'`;
    const misdated = retries.filter((r) => Math.abs(r.off) > 1);
    checks.push({
      name: 'no misdated retry: every retryAt is its event’s database stamp + the backoff',
      ok: misdated.length === 0,
      detail:
        misdated.length === 0
          ? `${retries.length} retries scheduled`
          : `${misdated.length} off, e.g. ${misdated
              .slice(0, 3)
              .map((m) => `${m.saga} by ${(m.off / 1000).toFixed(1)} s`)
              .join('; ')}`,
    });
    for (const p of this.partitions)
      checks.push({
        name: 'net-partition: the others took the cut-off worker’s jobs; it came back by itself',
        ok:
          (p.lockedAtCut === 0 || p.releasedAfterMs !== null) &&
          p.workedAgainAfterMs !== null &&
          p.samePidAtEnd === true,
        detail: `released after ${p.releasedAfterMs === null ? 'never' : secs(p.releasedAfterMs)}, working again ${p.workedAgainAfterMs === null ? 'never' : `${secs(p.workedAgainAfterMs)} after the heal`}, ${p.samePidAtEnd ? 'no restart' : 'restarted or exited'}`,
      });
    for (const d of this.disks) {
      // Until 10 s after the space returned. graphile-worker 0.17.3 ends a worker's pool when it
      // cannot record a job's completion (jobs/worker.ts): that worker exits and the fleet, like
      // npm start's supervisor, starts another. The web app must not go down.
      const during = exits.filter(
        (e) => !e.expected && e.at >= this.t0 + d.at && e.at <= this.t0 + d.at + d.heldMs + 10_000,
      );
      const web = during.filter((e) => e.name === 'web');
      d.workerExits = during.length - web.length;
      checks.push({
        name: 'disk-full: the web app kept running; a worker that gave up was replaced',
        ok: web.length === 0,
        detail: `web ${web.length === 0 ? 'kept running' : 'EXITED'}; ${d.workerExits} worker(s) exited on their own and were restarted`,
      });
      const fivehundreds = [...d.statuses]
        .filter(([s]) => s === 500)
        .reduce((n, [, c]) => n + c, 0);
      checks.push({
        name: 'disk-full: new orders get a 503 with a JSON error (no 500); orders flow again by themselves',
        ok:
          (d.statuses.get(503) ?? 0) > 0 &&
          d.unclear === 0 &&
          fivehundreds === 0 &&
          d.recoveredAfterMs !== null,
        detail: `${d.statuses.get(503) ?? 0} × 503 (${d.unclear} without a JSON error), ${fivehundreds} × 500; recovered ${d.recoveredAfterMs === null ? 'never' : `${secs(d.recoveredAfterMs)} after space returned`}`,
      });
    }
    for (const s of this.skews)
      checks.push({
        name: `clock-skew: the worker ${s.offsetMs > 0 ? 'ahead' : 'behind'} did work and stopped cleanly`,
        ok: s.busySamples > 0 && s.exitCode === 0 && s.ownExit === null,
        detail: `held jobs in ${s.busySamples}/${s.samples} samples, exit ${s.exitCode}${s.ownExit ? ` ${s.ownExit}` : ' when stopped'}`,
      });
    return checks;
  }

  async close(adminUrl: string | undefined): Promise<void> {
    await this.links?.close();
    await this.disk?.remove(adminUrl);
  }
}
