import type postgres from 'postgres';
import type { ChaosProcess, WorkerFleet } from './cluster';
import type { LinkConditions, NetLinks } from './net-proxy';
import { sleep, type Rng } from './rng';

/**
 * net-latency and net-partition: the bad network between RxSaga's processes and PostgreSQL,
 * played by the drill's TCP proxy (net-proxy.ts). Each fault records what it saw for the
 * drill's table; the invariants that must hold through them are the drill's usual ones.
 */

const NET_LATENCY: LinkConditions = { latencyMs: 40, jitterMs: 30, loss: 0.02 };

export interface LatencyRecord {
  from: number;
  to: number | null;
  conditions: LinkConditions;
  chunks: number;
  lost: number;
  meanDelayMs: number;
  /** Sagas that reached COMPLETED/CANCELLED while the network was bad. */
  finishedDuring: number;
}

export interface PartitionRecord {
  at: number;
  worker: string;
  pid: number;
  lockedAtCut: number;
  /** How long it was cut off: the planned cut, or longer while its jobs were still held. */
  cutMs: number;
  /** From the cut until no job was locked by the cut-off worker any more (others took them). */
  releasedAfterMs: number | null;
  /** Sagas finished by the other workers while it was cut off. */
  finishedDuring: number;
  /** From the heal until it beat again (its heartbeat row back). */
  beatAgainAfterMs: number | null;
  /** From the heal until it held a job again: it works without a restart. */
  workedAgainAfterMs: number | null;
  /** Still the same process at the end of the drill (not restarted). */
  samePidAtEnd: boolean | null;
  heldChunks: number;
}

interface NetContext {
  sql: postgres.Sql;
  links: NetLinks;
  fleet: WorkerFleet;
  rng: Rng;
  log: (m: string) => void;
  t0: number;
}

const finishedSince = async (sql: postgres.Sql, since: Date): Promise<number> => {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from events
    where type in ('order_fulfillment_saga.completed', 'order_fulfillment_saga.failed') and recorded_at >= ${since}`;
  return row?.n ?? 0;
};

const dbNow = async (sql: postgres.Sql): Promise<Date> => {
  const [row] = await sql<{ now: Date }[]>`select now() as now`;
  return row!.now;
};

export async function netLatency(ctx: NetContext, ms: number): Promise<LatencyRecord> {
  const before = ctx.links.total();
  const since = await dbNow(ctx.sql);
  const rec: LatencyRecord = {
    from: Date.now() - ctx.t0,
    to: null,
    conditions: NET_LATENCY,
    chunks: 0,
    lost: 0,
    meanDelayMs: 0,
    finishedDuring: 0,
  };
  ctx.links.setConditions(NET_LATENCY);
  ctx.log(
    `net-latency: ${NET_LATENCY.latencyMs} ± ${NET_LATENCY.jitterMs} ms, ${NET_LATENCY.loss * 100} % loss for ${ms / 1000} s`,
  );
  try {
    await sleep(ms);
  } finally {
    ctx.links.setConditions(null);
  }
  const after = ctx.links.total();
  rec.to = Date.now() - ctx.t0;
  rec.chunks = after.chunks - before.chunks;
  rec.lost = after.lost - before.lost;
  rec.meanDelayMs = rec.chunks > 0 ? (after.delayedMs - before.delayedMs) / rec.chunks : 0;
  rec.finishedDuring = await finishedSince(ctx.sql, since).catch(() => -1);
  ctx.log(
    `net-latency over: ${rec.chunks} chunks, ${rec.lost} lost and resent, ${rec.finishedDuring} sagas finished meanwhile`,
  );
  return rec;
}

/** Job locks and heartbeat of one worker process. */
async function workerState(
  sql: postgres.Sql,
  pid: number,
): Promise<{ beating: boolean; locked: number }> {
  const [row] = await sql<{ beating: boolean; locked: number }[]>`
    select exists (select 1 from worker_heartbeats where pid = ${pid}) as beating,
      (select count(*)::int from graphile_worker.jobs j join worker_heartbeats h on j.locked_by = any (h.worker_ids)
       where h.pid = ${pid}) as locked`;
  return row ?? { beating: false, locked: 0 };
}

/**
 * Cuts one busy worker off from PostgreSQL for `cutMs` (longer than the dead-worker threshold),
 * then heals. The others must release its jobs and finish its sagas; it must come back by itself
 * and apply nothing twice (the drill's event and stock invariants check that part).
 */
export async function netPartition(
  ctx: NetContext,
  cutMs: number,
): Promise<PartitionRecord | undefined> {
  let target: ChaosProcess | undefined;
  let ids: string[] = [];
  let locked = 0;
  for (const deadline = Date.now() + 5000; !target && Date.now() < deadline; await sleep(100)) {
    const rows = await ctx.sql<{ pid: number; worker_ids: string[]; locked: number }[]>`
      select h.pid, h.worker_ids, (select count(*)::int from graphile_worker.jobs j where j.locked_by = any (h.worker_ids)) as locked
      from worker_heartbeats h`;
    const busy = rows.filter(
      (r) =>
        r.locked > 0 && ctx.fleet.list.some((w) => w.pid === r.pid && ctx.links.byName.has(w.name)),
    );
    const pick = busy.length > 0 ? ctx.rng.pick(busy) : undefined;
    if (pick) {
      target = ctx.fleet.list.find((w) => w.pid === pick.pid);
      ids = pick.worker_ids;
      locked = pick.locked;
    }
  }
  target ??= ctx.fleet.list.find((w) => ctx.links.byName.has(w.name));
  if (!target) return undefined;
  const link = ctx.links.byName.get(target.name)!;
  if (ids.length === 0) {
    const [row] = await ctx.sql<
      { worker_ids: string[] }[]
    >`select worker_ids from worker_heartbeats where pid = ${target.pid}`;
    ids = row?.worker_ids ?? [];
  }
  // Until it has shown that it recovers, the drill's SIGKILLs and SIGTERMs leave it alone.
  ctx.fleet.spared.add(target);
  try {
    const since = await dbNow(ctx.sql);
    const heldBefore = link.stats.heldDuringPartition;
    link.cut();
    const cutAt = Date.now();
    const rec: PartitionRecord = {
      at: cutAt - ctx.t0,
      worker: target.name,
      pid: target.pid,
      lockedAtCut: locked,
      cutMs,
      releasedAfterMs: null,
      finishedDuring: 0,
      beatAgainAfterMs: null,
      workedAgainAfterMs: null,
      samePidAtEnd: null,
      heldChunks: 0,
    };
    ctx.log(
      `net-partition: ${target.name} (PID ${target.pid}, ${locked} jobs held) cut off from PostgreSQL for at least ${cutMs / 1000} s`,
    );
    // At least cutMs, and on until the others have its jobs (at most 4 × cutMs): on a loaded
    // machine the release after the server ends its transaction came just after a fixed cut.
    const waiting = () => rec.releasedAfterMs === null && ids.length > 0 && locked > 0;
    try {
      while (Date.now() - cutAt < cutMs || (waiting() && Date.now() - cutAt < cutMs * 4)) {
        if (rec.releasedAfterMs === null && ids.length > 0) {
          const [row] = await ctx.sql<{ n: number }[]>`
            select count(*)::int as n from graphile_worker.jobs where locked_by = any (${ids}::text[])`.catch(
            () => [{ n: -1 }],
          );
          if (row?.n === 0) rec.releasedAfterMs = Date.now() - cutAt;
        }
        await sleep(250);
      }
    } finally {
      link.heal();
    }
    const healedAt = Date.now();
    rec.cutMs = healedAt - cutAt;
    rec.heldChunks = link.stats.heldDuringPartition - heldBefore;
    rec.finishedDuring = await finishedSince(ctx.sql, since).catch(() => -1);
    ctx.log(
      `net-partition healed: ${target.name}'s jobs released after ${rec.releasedAfterMs === null ? 'NEVER' : `${(rec.releasedAfterMs / 1000).toFixed(1)} s`}; ${rec.finishedDuring} sagas finished meanwhile`,
    );
    // Back by itself: the same process beats again and takes jobs again.
    for (
      const deadline = healedAt + 60_000;
      Date.now() < deadline && target.running;
      await sleep(250)
    ) {
      const s = await workerState(ctx.sql, target.pid).catch(() => ({ beating: false, locked: 0 }));
      if (s.beating) rec.beatAgainAfterMs ??= Date.now() - healedAt;
      if (s.beating && s.locked > 0) {
        rec.workedAgainAfterMs = Date.now() - healedAt;
        break;
      }
    }
    const worker = target;
    rec.samePidAtEnd = worker.running;
    void worker.exited.then((e) => {
      // Exits by the drill's own SIGKILL/SIGTERM are expected; one on its own is a failure to recover.
      if (!e.expected) rec.samePidAtEnd = false;
    });
    return rec;
  } finally {
    ctx.fleet.spared.delete(target);
  }
}
