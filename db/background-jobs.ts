import { sql } from 'drizzle-orm';
import type { DbOrTx } from './client';

/**
 * Jobs of RxSaga's own background tasks (releasing held sagas, running bulk operations), added
 * through graphile-worker's add_job inside the caller's transaction: they commit or roll back
 * with the change that asks for them. A few per operator action, so add_job's cost does not
 * matter here (saga steps use db/saga-store/graphile-jobs.ts). `key`: one such job per key at a time; adding it
 * again replaces a queued one, and beside a running one it queues the next run.
 */
export async function addBackgroundJob(
  db: DbOrTx,
  identifier: string,
  payload: Record<string, string>,
  options: { key: string; delaySeconds?: number; priority?: number },
): Promise<void> {
  await db.execute(sql`select graphile_worker.add_job(
    ${identifier}::text, ${JSON.stringify(payload)}::json,
    run_at => now() + make_interval(secs => ${options.delaySeconds ?? 0}),
    job_key => ${options.key}::text, max_attempts => 25,
    priority => ${options.priority ?? 0}::int)`);
}
