import { sql } from 'drizzle-orm';
import type { Database } from './client';
import {
  foldStored,
  getSagas,
  projectDomainEvent,
  readAllEvents,
  saveSaga,
  type StoredSaga,
} from './saga-store';

export interface ReplayProgress {
  events: number;
  totalEvents: number;
  sagas: number;
}

const PROJECTION_TABLES = [
  'order_fulfillment_sagas',
  'saga_stats_hourly',
  'orders',
  'prescriptions',
  'inventory_reservations',
  'shipments',
];

/**
 * Rebuilds every projection from the event store, in one transaction: readers see the old
 * projections until it commits, and writers wait (the tables are locked) rather than interleave.
 * It runs the same fold (`evolve`) and projector as live appends, so it reproduces them exactly.
 */
export async function replayProjections(
  db: Database,
  onProgress?: (p: ReplayProgress) => void,
): Promise<ReplayProgress> {
  return db.transaction(async (tx) => {
    await tx.execute(
      sql.raw(
        `lock table ${[...PROJECTION_TABLES, 'inventory_items'].join(', ')} in exclusive mode`,
      ),
    );
    await tx.execute(sql.raw(`truncate ${PROJECTION_TABLES.join(', ')}`));
    // The saga rollup is rebuilt once at the end, archived sagas included (migration 0005).
    await tx.execute(sql`select set_config('rxsaga.rollups', 'off', true)`);
    const [count] = await tx.execute<{ n: number }>(sql`select count(*)::int as n from events`);
    const progress: ReplayProgress = { events: 0, totalEvents: count?.n ?? 0, sagas: 0 };

    for await (const page of readAllEvents(tx)) {
      const ids = [...new Set(page.map((e) => e.metadata.correlationId))];
      const sagas = new Map<string, StoredSaga>();
      // Sagas begun on an earlier page continue from what that page saved.
      for (const stored of await getSagas(tx, ids)) sagas.set(stored.saga.sagaId, stored);
      for (const event of page) {
        const id = event.metadata.correlationId;
        const before = sagas.get(id) ?? null;
        if (!before) progress.sagas += 1;
        sagas.set(id, foldStored(before, event));
        await projectDomainEvent(tx, event, { adjustStock: false });
      }
      for (const saga of sagas.values()) await saveSaga(tx, saga);
      progress.events += page.length;
      onProgress?.({ ...progress });
    }

    await tx.execute(sql`
      update inventory_items i set reserved = coalesce(
        (select sum(r.quantity) from inventory_reservations r where r.sku = i.sku and r.status = 'active'), 0)`);
    await tx.execute(sql`select rebuild_saga_stats_rollup()`);
    return progress;
  });
}
