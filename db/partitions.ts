import { sql } from 'drizzle-orm';
import type { Database, DbOrTx } from './client';

/**
 * The event store's partitions (migration 0011_events_partitioned, docs/history.md): one per
 * month of saga starts, named `events_YYYYmMM`, and `events_default` for anything else. The
 * worker keeps this month's and the next EVENT_PARTITIONS_AHEAD months' partitions created, at
 * start and daily, so appends land in a month partition and the default one stays (nearly) empty.
 */
const EVENT_PARTITIONS_AHEAD = 3;

/**
 * Creates the missing partitions of this month and the next `monthsAhead`; returns how many it
 * created. Creating a partition locks the event table for a moment, so it gives up after
 * `lockTimeoutMs` rather than hold appends up (the next day's run, months ahead, tries again).
 */
export async function ensureEventPartitions(
  db: Database,
  monthsAhead = EVENT_PARTITIONS_AHEAD,
  lockTimeoutMs = 5000,
): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('lock_timeout', ${`${lockTimeoutMs}ms`}, true)`);
    const [row] = await tx.execute<{ n: number }>(
      sql`select ensure_event_partitions(${monthsAhead}::int) as n`,
    );
    return row?.n ?? 0;
  });
}

export interface EventPartition {
  name: string;
  /** `YYYY-MM-DD` bounds (from inclusive, to exclusive); null for the default partition. */
  from: string | null;
  to: string | null;
  events: number;
}

/** The event partitions, oldest first, the default one last, with their row counts. */
export async function listEventPartitions(db: DbOrTx): Promise<EventPartition[]> {
  const rows = await db.execute<{ name: string; bound: string }>(sql`
    select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_partition_tree('events') t join pg_class c on c.oid = t.relid
    where t.isleaf order by c.relname`);
  const out: EventPartition[] = [];
  for (const r of rows) {
    const range = /FROM \('([^']+)'\) TO \('([^']+)'\)/.exec(r.bound);
    const [count] = await db.execute<{ n: number }>(
      sql`select count(*)::int as n from ${sql.identifier(r.name)}`,
    );
    out.push({
      name: r.name,
      from: range?.[1] ?? null,
      to: range?.[2] ?? null,
      events: count?.n ?? 0,
    });
  }
  return out.sort((a, b) => (a.from ?? '9999').localeCompare(b.from ?? '9999'));
}
