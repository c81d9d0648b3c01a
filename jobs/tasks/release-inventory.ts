import { runPrepared } from '@/db/saga-store';
import type { CompensationEvent } from '@/lib/saga/decide';
import { taskWork, type CompensationContext } from '../task-context';

// Locks the stock rows in SKU order (as reserve-inventory does), so the projection's single
// update of every line takes no lock out of order.
const ACTIVE = `select r.sku, r.quantity from inventory_reservations r
  join inventory_items i on i.sku = r.sku
  where r.saga_id = $1::uuid and r.status = 'active'
  order by r.sku for update of i`;

// For a batch of sagas (jobs/compensate-batch.ts): no lock here; the batch's projection locks
// the stock rows in SKU order right before it moves them (db/saga-store/projections.ts).
const ACTIVE_OF_SAGAS = `select r.saga_id::text as "sagaId", r.sku, r.quantity
  from inventory_reservations r
  where r.saga_id = any($1::uuid[]) and r.status = 'active' order by r.saga_id, r.sku`;

// The stock rows of several sagas' active reservations ($1: their ids), in SKU order (group commit).
const LOCK_ACTIVE_OF_SAGAS = `select 1 from inventory_items i
  where i.sku in (select r.sku from inventory_reservations r
    where r.saga_id = any($1::uuid[]) and r.status = 'active')
  order by i.sku for update of i`;

type Line = { sku: string; quantity: number };

export const releaseInventory = taskWork<CompensationEvent, Line[], CompensationContext>({
  read: (tx, sagaId) => runPrepared<Line>(tx, ACTIVE, [sagaId]),
  readMany: (tx, sagaIds) => runPrepared<Line & { sagaId: string }>(tx, ACTIVE_OF_SAGAS, [sagaIds]),
  lockMany: (tx, sagaIds) => runPrepared(tx, LOCK_ACTIVE_OF_SAGAS, [sagaIds]),
  decide: ({ saga }, active) => ({
    type: 'order.inventory_released',
    payload: {
      orderId: saga.orderId,
      lines: active.map((l) => ({ sku: l.sku, quantity: l.quantity })),
    },
  }),
});
