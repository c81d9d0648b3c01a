import type { Database } from '@/db/client';
import { ensureEventPartitions } from '@/db/partitions';
import { logger } from '@/server/logger';

/** The graphile-worker task the worker's daily cron runs (jobs/worker.ts). */
export const PARTITION_TASK = 'event-partitions';

/**
 * Keeps the event store's coming months partitioned (db/partitions.ts). Run by every worker at
 * start and by the daily cron; a failure is logged, not thrown at start: the default partition
 * takes whatever has no month partition yet, and the next run creates it and moves those rows.
 */
export async function keepEventPartitions(db: Database): Promise<number> {
  const created = await ensureEventPartitions(db);
  if (created > 0)
    logger.info({ created, event: 'events.partitions_created' }, 'event partitions created');
  return created;
}
