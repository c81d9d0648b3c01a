import type postgres from 'postgres';
import { TASKS, type Task } from '@/lib/saga/model';
import type { ChaosApi } from './api';
import type { ChaosDatabase, WorkerFleet } from './cluster';
import type { ChaosOptions } from './options';
import { sleep, type Rng } from './rng';

/**
 * The fault schedule and its execution. Times are offsets (ms) from the start of the load.
 * Faults run one after another from a single loop, each at its time or as soon as the one
 * before it has finished (a database restart takes a few seconds).
 */

export type ScheduledFault =
  | { at: number; kind: 'sigkill' }
  | { at: number; kind: 'sigterm' }
  | { at: number; kind: 'pg-restart'; mode: 'fast' | 'immediate' }
  | { at: number; kind: 'pg-terminate' }
  | { at: number; kind: 'poison-on' | 'poison-off'; task: Task };

/** Added to every task while the load runs, so a SIGKILL lands inside a step's transaction. */
export const BASE_LATENCY_MS = 40;
const POISON_TASKS: Task[] = ['reserve-inventory', 'cancel-prescription'];

export function buildSchedule(o: ChaosOptions, rng: Rng): ScheduledFault[] {
  const total = o.minutes * 60_000;
  const start = Math.min(5000, total * 0.05);
  const end = total - Math.min(5000, total * 0.05);
  const spread = (count: number, jitter: number, offset = 0.5): number[] => {
    const step = (end - start) / Math.max(1, count);
    return Array.from({ length: count }, (_, i) =>
      Math.round(start + step * (i + offset) + (rng.next() - 0.5) * 2 * jitter * step),
    );
  };
  const plan: ScheduledFault[] = [];
  if (o.faults.has('sigkill'))
    for (const at of spread(o.kills, 0.45)) plan.push({ at, kind: 'sigkill' });
  if (o.faults.has('sigterm'))
    for (const at of spread(o.terms, 0.3, 0.3)) plan.push({ at, kind: 'sigterm' });
  if (o.faults.has('pg-terminate'))
    for (const at of spread(o.connKills, 0.3, 0.7)) plan.push({ at, kind: 'pg-terminate' });
  if (o.faults.has('pg-restart')) {
    for (let i = 0; i < o.pgRestarts; i++) {
      const at = Math.round(start + ((end - start) * (i + 1)) / (o.pgRestarts + 1));
      plan.push({ at, kind: 'pg-restart', mode: i % 2 === 0 ? 'fast' : 'immediate' });
    }
  }
  if (o.faults.has('poison')) {
    // A step, then a compensation, that always throws for an eighth of the run each.
    const windows: [number, number][] = [
      [0.2, 0.325],
      [0.55, 0.675],
    ];
    POISON_TASKS.forEach((task, i) => {
      const [from, to] = windows[i]!;
      plan.push({ at: Math.round(total * from), kind: 'poison-on', task });
      plan.push({ at: Math.round(total * to), kind: 'poison-off', task });
    });
  }
  return plan.sort((a, b) => a.at - b.at);
}

export interface KillRecord {
  /** ms from the start of the load. */
  at: number;
  pid: number;
  midStep: boolean;
  lockedJobs: number;
  /** ms from the SIGKILL until no job was locked by the dead worker; null while pending/never. */
  releasedAfterMs: number | null;
}

export interface TermRecord {
  pid: number;
  code: number | null;
  signal: string | null;
  tookMs: number;
  lockedBefore: number;
  /** Jobs still locked by the stopped worker after it exited: a graceful stop leaves none. */
  lockedAfter: number;
}

export interface FaultLog {
  kills: KillRecord[];
  terms: TermRecord[];
  restarts: { at: number; mode: string; downMs: number; error?: string }[];
  connKills: { backends: number }[];
  poison: { task: Task; from: number; to: number | null }[];
  operator: Map<string, number>;
  errors: string[];
}

export function emptyFaultLog(): FaultLog {
  return {
    kills: [],
    terms: [],
    restarts: [],
    connKills: [],
    poison: [],
    operator: new Map(),
    errors: [],
  };
}

/**
 * The faults that would spoil each other's outcome run one at a time: a database restart, a
 * network partition (a restart during it breaks the cut-off worker's connections, and one at its
 * start failed to pick a worker: seed 11 once ran without a partition), a full disk (a restart
 * beside it turned its 503s into 500s). Each waits for the one before it, however late that
 * makes it, so every fault asked for runs; the table shows when each really ran.
 */
export class FaultLane {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const turn = this.tail.then(fn, fn);
    this.tail = turn.catch(() => {});
    return turn;
  }
}

export interface FaultContext {
  sql: postgres.Sql;
  lane: FaultLane;
  db: ChaosDatabase;
  fleet: WorkerFleet;
  api: ChaosApi;
  rng: Rng;
  log: (m: string) => void;
  record: FaultLog;
  dbName: string;
  t0: number;
}

async function lockedByPid(
  sql: postgres.Sql,
): Promise<Map<number, { ids: string[]; locked: number }>> {
  const rows = await sql<{ pid: number; worker_ids: string[]; locked: number }[]>`
    select h.pid, h.worker_ids,
      (select count(*)::int from graphile_worker.jobs j where j.locked_by = any (h.worker_ids)) as locked
    from worker_heartbeats h`;
  return new Map(rows.map((r) => [r.pid, { ids: r.worker_ids, locked: r.locked }]));
}

async function lockedBy(sql: postgres.Sql, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const [row] = await sql<
    { n: number }[]
  >`select count(*)::int as n from graphile_worker.jobs where locked_by = any (${ids}::text[])`;
  return row?.n ?? 0;
}

/** Waits (in the background) until the dead worker's jobs are no longer locked. */
function watchRelease(ctx: FaultContext, ids: string[], killedAt: number, rec: KillRecord): void {
  void (async () => {
    while (Date.now() - killedAt < 180_000) {
      try {
        if ((await lockedBy(ctx.sql, ids)) === 0) {
          rec.releasedAfterMs = Date.now() - killedAt;
          return;
        }
      } catch {
        /* the database may be restarting */
      }
      await sleep(250);
    }
  })();
}

async function sigkillWorker(ctx: FaultContext): Promise<void> {
  // Prefer a worker that is inside a step right now; give it up to 3 s to be caught mid-step.
  let target: { pid: number; ids: string[]; locked: number } | undefined;
  for (const deadline = Date.now() + 3000; Date.now() < deadline && !target;) {
    const alive = new Set(ctx.fleet.targets.map((w) => w.pid));
    const busy = [
      ...(await lockedByPid(ctx.sql).catch(
        () => new Map<number, { ids: string[]; locked: number }>(),
      )),
    ]
      .filter(([pid, v]) => alive.has(pid) && v.locked > 0)
      .map(([pid, v]) => ({ pid, ...v }));
    if (busy.length > 0) target = ctx.rng.pick(busy);
    else await sleep(100);
  }
  const worker = target
    ? ctx.fleet.targets.find((w) => w.pid === target.pid)
    : ctx.rng.pick(ctx.fleet.targets);
  if (!worker) {
    ctx.record.errors.push('sigkill: no running worker');
    return;
  }
  const info = target ??
    (await lockedByPid(ctx.sql)
      .catch(() => new Map())
      .then((m) => m.get(worker.pid))) ?? { ids: [], locked: 0 };
  worker.signal('SIGKILL');
  const killedAt = Date.now();
  ctx.fleet.spawn();
  const rec: KillRecord = {
    at: killedAt - ctx.t0,
    pid: worker.pid,
    midStep: info.locked > 0,
    lockedJobs: info.locked,
    releasedAfterMs: info.locked > 0 ? null : 0,
  };
  ctx.record.kills.push(rec);
  if (info.locked > 0) watchRelease(ctx, info.ids, killedAt, rec);
}

async function sigtermWorker(ctx: FaultContext): Promise<void> {
  // A worker that has finished starting (it beats): a process still loading its code has no
  // tasks and no handlers yet, so a SIGTERM to it is just a kill. Wait for one (the database
  // may be restarting).
  let beating = new Map<number, { ids: string[]; locked: number }>();
  let started: typeof ctx.fleet.targets = [];
  for (
    const deadline = Date.now() + 20_000;
    started.length === 0 && Date.now() < deadline;
    await sleep(250)
  ) {
    beating = await lockedByPid(ctx.sql).catch(
      () => new Map<number, { ids: string[]; locked: number }>(),
    );
    started = ctx.fleet.targets.filter((w) => beating.has(w.pid) && Date.now() - w.startedAt > 500);
  }
  const worker = started.length > 0 ? ctx.rng.pick(started) : undefined;
  if (!worker) {
    ctx.record.errors.push('sigterm: no running worker');
    return;
  }
  const info = beating.get(worker.pid) ?? { ids: [], locked: 0 };
  const stopAt = Date.now();
  ctx.fleet.spawn();
  const exit = await worker.stop(30_000);
  const rec: TermRecord = {
    pid: worker.pid,
    code: exit.code,
    signal: exit.signal,
    tookMs: Date.now() - stopAt,
    lockedBefore: info.locked,
    lockedAfter: await lockedBy(ctx.sql, info.ids).catch(() => -1),
  };
  ctx.record.terms.push(rec);
}

async function terminateConnections(ctx: FaultContext): Promise<void> {
  const [row] = await ctx.sql<{ n: number }[]>`
    select count(*)::int as n from (
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = ${ctx.dbName} and pid <> pg_backend_pid()
        and coalesce(application_name, '') <> 'rxsaga-chaos') t`;
  ctx.record.connKills.push({ backends: row?.n ?? 0 });
}

async function restartDatabase(ctx: FaultContext, mode: 'fast' | 'immediate'): Promise<void> {
  const started = Date.now();
  try {
    await ctx.db.restart(mode, 2000);
    ctx.record.restarts.push({ at: started - ctx.t0, mode, downMs: Date.now() - started });
  } catch (err) {
    ctx.record.restarts.push({
      at: started - ctx.t0,
      mode,
      downMs: Date.now() - started,
      error: String(err),
    });
    throw err;
  }
}

async function setPoison(ctx: FaultContext, task: Task, on: boolean): Promise<void> {
  for (let i = 0; ; i++) {
    const r = await ctx.api.setFault({
      task,
      failureRate: 0,
      transientRate: on ? 1 : 0,
      latencyMs: BASE_LATENCY_MS,
    });
    if (r.status >= 200 && r.status < 300) break;
    if (i >= 30) throw new Error(`PUT /api/faults for ${task} answered ${r.status}`);
    await sleep(1000);
  }
  const t = Date.now() - ctx.t0;
  if (on) ctx.record.poison.push({ task, from: t, to: null });
  else {
    const open = ctx.record.poison.find((p) => p.task === task && p.to === null);
    if (open) open.to = t;
  }
}

export async function setBaseFaults(api: ChaosApi, latencyMs: number): Promise<void> {
  for (const task of TASKS) {
    for (let i = 0; ; i++) {
      const r = await api.setFault({ task, failureRate: 0, transientRate: 0, latencyMs });
      if (r.status >= 200 && r.status < 300) break;
      if (i >= 30)
        throw new Error(
          `PUT /api/faults for ${task} answered ${r.status}: ${JSON.stringify(r.body)}`,
        );
      await sleep(1000);
    }
  }
}

/**
 * Runs every fault of the plan, each at its time or, when the one before took longer (a busy
 * machine, a fault waiting its turn in the lane), as soon as that one is over: a fault asked for
 * is never dropped for being late (a cut-off at the end of the load once left a loaded run with
 * 2 of its 5 SIGKILLs and no restart). `scheduleChecks` says whether each ran.
 */
export async function runSchedule(ctx: FaultContext, plan: ScheduledFault[]): Promise<void> {
  for (const fault of plan) {
    const wait = ctx.t0 + fault.at - Date.now();
    if (wait > 0) await sleep(wait);
    try {
      switch (fault.kind) {
        case 'sigkill':
          await sigkillWorker(ctx);
          break;
        case 'sigterm':
          await sigtermWorker(ctx);
          break;
        case 'pg-terminate':
          await terminateConnections(ctx);
          break;
        case 'pg-restart':
          await ctx.lane.run(async () => {
            ctx.log(`restarting PostgreSQL (${fault.mode} shutdown)…`);
            await restartDatabase(ctx, fault.mode);
            ctx.log('PostgreSQL is back');
          });
          break;
        case 'poison-on':
        case 'poison-off':
          await setPoison(ctx, fault.task, fault.kind === 'poison-on');
          ctx.log(
            `poison ${fault.kind === 'poison-on' ? 'on' : 'off'}: ${fault.task} always throws`,
          );
          break;
      }
    } catch (err) {
      ctx.record.errors.push(`${fault.kind}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** The invariant that the plan ran: each kind of fault as many times as scheduled. */
export function scheduleCheck(plan: ScheduledFault[], record: FaultLog) {
  const planned = (kind: ScheduledFault['kind']) => plan.filter((f) => f.kind === kind).length;
  const kinds: [string, number, number][] = [
    ['sigkill', planned('sigkill'), record.kills.length],
    ['sigterm', planned('sigterm'), record.terms.length],
    ['pg-restart', planned('pg-restart'), record.restarts.filter((r) => !r.error).length],
    ['pg-terminate', planned('pg-terminate'), record.connKills.length],
    ['poison', planned('poison-on'), record.poison.filter((p) => p.to !== null).length],
  ];
  const asked = kinds.filter(([, n]) => n > 0);
  return {
    name: 'every fault scheduled ran (late when the machine was slow, never dropped)',
    ok: asked.every(([, n, ran]) => ran >= n),
    detail: asked.map(([k, n, ran]) => `${k} ${ran}/${n}`).join(', ') || 'none scheduled',
  };
}

/**
 * The operator: resolves sagas flagged for intervention (retry, or cancel while a step is
 * pending) and, racing the workers, cancels in-flight sagas and retries ones that are running.
 */
export async function operatorTick(ctx: FaultContext, racing: boolean): Promise<void> {
  const bump = (k: string) => ctx.record.operator.set(k, (ctx.record.operator.get(k) ?? 0) + 1);
  const flagged = await ctx.sql<{ saga_id: string; state: string }[]>`
    select saga_id, state from order_fulfillment_sagas where needs_intervention order by random() limit 4`;
  for (const s of flagged) {
    const cancel = s.state.startsWith('PENDING_') && ctx.rng.chance(0.5);
    const r = cancel
      ? await ctx.api.cancel(s.saga_id, 'chaos drill: operator gives up on it')
      : await ctx.api.retry(s.saga_id, 'chaos drill: operator retries');
    bump(`${cancel ? 'cancel' : 'retry'} flagged → ${r.status}`);
  }
  if (!racing) return;
  const inflight = await ctx.sql<{ saga_id: string }[]>`
    select saga_id from order_fulfillment_sagas
    where state like 'PENDING_%' and not needs_intervention order by random() limit 2`;
  const [a, b] = inflight;
  if (a && ctx.rng.chance(0.3)) {
    const r = await ctx.api.cancel(a.saga_id, 'chaos drill: customer called to cancel');
    bump(`cancel in-flight → ${r.status}`);
  }
  if (b && ctx.rng.chance(0.3)) {
    const r = await ctx.api.retry(b.saga_id, 'chaos drill: impatient operator');
    bump(`retry in-flight → ${r.status}`);
  }
}

/** After the drill: every flagged saga is cancelled (while a step is pending) or retried. */
export async function resolveFlagged(ctx: FaultContext): Promise<void> {
  const bump = (k: string) => ctx.record.operator.set(k, (ctx.record.operator.get(k) ?? 0) + 1);
  const flagged = await ctx.sql<{ saga_id: string; state: string; attempts: number }[]>`
    select saga_id, state, attempts from order_fulfillment_sagas where needs_intervention`;
  for (const s of flagged) {
    const r = s.state.startsWith('PENDING_')
      ? await ctx.api.cancel(s.saga_id, 'chaos drill: resolve after the drill')
      : await ctx.api.retry(s.saga_id, 'chaos drill: resolve after the drill');
    bump(`resolve ${s.state.startsWith('PENDING_') ? 'cancel' : 'retry'} → ${r.status}`);
  }
}
