import { sql } from 'drizzle-orm';
import type { Database } from '@/db/client';

/** The tables that hold a saga's rows besides the events (what the archive moves). */
export const HOT_TABLES = [
  'order_fulfillment_sagas',
  'orders',
  'prescriptions',
  'inventory_reservations',
  'shipments',
];

/**
 * Moves every time of the sagas matching `where` (SQL over order_fulfillment_sagas) and of their
 * rows and events `days` into the past, as if that history were so old.
 */
export async function ageSagas(db: Database, days: number, where = 'true'): Promise<void> {
  const ids = sql.raw(`(select saga_id from order_fulfillment_sagas where ${where})`);
  const columns = await db.execute<{ table_name: string; column_name: string }>(sql`
    select table_name, column_name from information_schema.columns
    where table_schema = 'public' and data_type = 'timestamp with time zone'
      and table_name = any(${sql.param([...HOT_TABLES, 'events'])}::text[])`);
  const shift = new Map<string, string[]>();
  for (const c of columns)
    shift.set(c.table_name, [
      ...(shift.get(c.table_name) ?? []),
      `${c.column_name} = ${c.column_name} - interval '${days} days'`,
    ]);
  for (const [table, sets] of shift) {
    const filter =
      table === 'events'
        ? sql`(metadata->>'correlationId')::uuid in ${ids}`
        : sql`saga_id in ${ids}`;
    await db.execute(
      sql`update ${sql.identifier(table)} set ${sql.raw(sets.join(', '))} where ${filter}`,
    );
  }
  // The events follow their saga's start into its month's partition (the default one when that
  // month has none).
  await db.execute(sql`
    update events e set saga_month = saga_month(s.started_at) from order_fulfillment_sagas s
    where s.saga_id = (e.metadata->>'correlationId')::uuid and s.saga_id in ${ids}
      and e.saga_month <> saga_month(s.started_at)`);
}
