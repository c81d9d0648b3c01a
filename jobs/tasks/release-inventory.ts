import { rawSql } from '@/db/saga-store';
import type { CompensationHandler } from '../task-context';

export const releaseInventory: CompensationHandler = async ({ tx, saga }) => {
  // Locks the stock rows in SKU order (as reserve-inventory does), so the projection's single
  // update of every line takes no lock out of order.
  const active = await rawSql(tx)<{ sku: string; quantity: number }[]>`
    select r.sku, r.quantity from inventory_reservations r
    join inventory_items i on i.sku = r.sku
    where r.saga_id = ${saga.sagaId} and r.status = 'active'
    order by r.sku for update of i`;
  return {
    type: 'order.inventory_released',
    payload: {
      orderId: saga.orderId,
      lines: active.map((l) => ({ sku: l.sku, quantity: l.quantity })),
    },
  };
};
