import { runPrepared } from '@/db/saga-store';
import type { CompensationEvent } from '@/lib/saga/decide';
import { taskWork } from '../task-context';

// Locks the stock rows in SKU order (as reserve-inventory does), so the projection's single
// update of every line takes no lock out of order.
const ACTIVE = `select r.sku, r.quantity from inventory_reservations r
  join inventory_items i on i.sku = r.sku
  where r.saga_id = $1::uuid and r.status = 'active'
  order by r.sku for update of i`;

export const releaseInventory = taskWork<CompensationEvent, { sku: string; quantity: number }[]>({
  read: (tx, sagaId) => runPrepared<{ sku: string; quantity: number }>(tx, ACTIVE, [sagaId]),
  decide: ({ saga }, active) => ({
    type: 'order.inventory_released',
    payload: {
      orderId: saga.orderId,
      lines: active.map((l) => ({ sku: l.sku, quantity: l.quantity })),
    },
  }),
});
