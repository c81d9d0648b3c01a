import { hostname } from 'node:os';
import { sql } from 'drizzle-orm';
import type { WorkerUtils } from 'graphile-worker';
import type { Database } from '@/db/client';
import { databaseNow } from '@/db/clock';
import { RELEASE_PAUSED_TASK } from '@/db/pauses';
import { compactMetricCounters } from '@/db/queries/metrics';
import { applyDecision, lockSaga } from '@/db/saga-store';
import { logger } from '@/server/logger';
import { interventionRequired } from '@/lib/saga/decide';
import { expectedTask } from '@/lib/saga/saga';

/**
 * Open-source graphile-worker has no heartbeat: a SIGKILLed worker's jobs stay locked for
 * 4 hours. Every worker records a heartbeat, and sweeps: it releases the jobs of pools whose
 * heartbeat stopped, and flags sagas that stalled (no progress and no job to move them).
 */
export interface SweeperOptions {
  db: Database;
  utils: WorkerUtils;
  poolId: string;
  workerIds: () => string[];
  deadAfterSeconds: number;
  stallSeconds: number;
}

async function recordHeartbeat(o: SweeperOptions): Promise<void> {
  await o.db.execute(sql`
    insert into worker_heartbeats (pool_id, worker_ids, hostname, pid, started_at, last_seen_at)
    values (${o.poolId}, ${sqlTextArray([o.poolId, ...o.workerIds()])}, ${hostname()}, ${process.pid}, now(), now())
    on conflict (pool_id) do update set worker_ids = excluded.worker_ids, last_seen_at = now()`);
}

export async function removeHeartbeat(o: Pick<SweeperOptions, 'db' | 'poolId'>): Promise<void> {
  await o.db.execute(sql`delete from worker_heartbeats where pool_id = ${o.poolId}`);
}

/** Releases jobs held by dead workers. Returns how many worker ids were unlocked. */
export async function releaseDeadWorkers(o: SweeperOptions): Promise<number> {
  const dead = await o.db.execute<{ pool_id: string; worker_ids: string[] }>(sql`
    delete from worker_heartbeats
    where last_seen_at < now() - make_interval(secs => ${o.deadAfterSeconds})
    returning pool_id, worker_ids`);
  // Also jobs locked by a worker with no heartbeat row at all (killed before its first beat).
  const orphans = await o.db.execute<{ locked_by: string }>(sql`
    select distinct locked_by from graphile_worker.jobs
    where locked_by is not null
      and locked_at < now() - make_interval(secs => ${o.deadAfterSeconds})
      and not exists (select 1 from worker_heartbeats h where jobs.locked_by = any (h.worker_ids))`);
  const ids = [
    ...new Set([...dead.flatMap((d) => d.worker_ids), ...orphans.map((r) => r.locked_by)]),
  ];
  if (ids.length === 0) return 0;
  await o.utils.forceUnlockWorkers(ids);
  logger.warn(
    { pools: dead.map((d) => d.pool_id), workerIds: ids },
    'released jobs of dead workers',
  );
  return ids.length;
}

/** Flags in-flight sagas that made no progress and have no job queued or running. */
export async function flagStalledSagas(o: SweeperOptions): Promise<number> {
  const stalled = await o.db.execute<{ saga_id: string }>(sql`
    select s.saga_id from order_fulfillment_sagas s
    where not saga_state_is_terminal(s.state)
      and not s.needs_intervention
      and s.updated_at < now() - make_interval(secs => ${o.stallSeconds})
      and not exists (
        select 1 from graphile_worker.jobs j
        where j.key = s.saga_id::text || ':' || s.current_task
          and (j.attempts < j.max_attempts or j.locked_at is not null))
      -- Waiting at a paused task is not a stall while the task is paused or being released.
      and not exists (
        select 1 from paused_sagas p
        where p.saga_id = s.saga_id and p.task = s.current_task
          and (exists (select 1 from task_pauses tp where tp.task = p.task)
            or exists (select 1 from graphile_worker.jobs r where r.key = ${RELEASE_PAUSED_TASK} || ':' || p.task)))
    limit 100`);
  let flagged = 0;
  for (const { saga_id } of stalled) {
    flagged += await o.db.transaction(async (tx) => {
      const stored = await lockSaga(tx, saga_id);
      const saga = stored?.saga;
      // Re-checked under the lock: the saga may have moved since the scan. By the database's
      // clock, like the scan: this process's own may be wrong.
      if (!stored || !saga || saga.needsIntervention || !expectedTask(saga)) return 0;
      const now = await databaseNow(tx);
      if (now.getTime() - saga.updatedAt.getTime() < o.stallSeconds * 1000) return 0;
      const reason = `stalled: no progress for over ${o.stallSeconds} s and no job queued for ${expectedTask(saga)}`;
      await applyDecision(tx, stored, interventionRequired(saga, reason), {
        actor: 'system:stall-detector',
      });
      logger.warn({ sagaId: saga.sagaId, task: expectedTask(saga), event: 'saga.stalled' }, reason);
      return 1;
    });
  }
  return flagged;
}

/**
 * graphile-worker's remove_job (an operator cancel dequeuing the step) and add_job with the same
 * key (a retry scheduled by the running task) cannot delete a job that is running: they clear
 * its key and set attempts = max_attempts, and the runner deletes it when it finishes. When the
 * runner was SIGKILLed instead, the released job is never run nor deleted: it stays in the queue
 * for ever. Found by `npm run chaos`. Such jobs are superseded by design: delete them.
 */
export async function purgeSupersededJobs(
  o: Pick<SweeperOptions, 'db' | 'utils'>,
): Promise<number> {
  const rows = await o.db.execute<{ id: string }>(sql`
    select id::text from graphile_worker.jobs
    where key is null and locked_at is null and attempts >= max_attempts
    limit 500`);
  if (rows.length === 0) return 0;
  const done = await o.utils.completeJobs(rows.map((r) => r.id));
  logger.info({ jobs: done.length }, 'purged superseded jobs left by dead workers');
  return done.length;
}

/**
 * One sweep: beat, release, flag. Every worker sweeps; two at once is harmless (the heartbeat
 * delete hands each dead pool to one sweeper, and a stalled saga is re-checked under its lock).
 */
export async function sweep(o: SweeperOptions): Promise<void> {
  await recordHeartbeat(o);
  await releaseDeadWorkers(o);
  await purgeSupersededJobs(o);
  await flagStalledSagas(o);
  // Keeps the deltas a metrics scrape sums to what a few sweeps' worth of sagas leave.
  await compactMetricCounters(o.db);
}

function sqlTextArray(values: string[]) {
  return sql`${`{${values.map((v) => `"${v}"`).join(',')}}`}::text[]`;
}
