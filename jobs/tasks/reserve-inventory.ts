import { runPrepared } from '@/db/saga-store';
import {
  describeShortages,
  mergeLines,
  planReservation,
  type StockLevel,
} from '@/lib/domain/reservation-rules';
import { taskWork, type StepOutcome } from '../task-context';
import { ORDER_SKUS } from './order-skus';

// Locks the stock rows in SKU order so two orders for the same SKUs queue instead of
// deadlocking; the projection of the event below then raises `reserved` under the same locks.
const STOCK = `select i.sku, i.on_hand as "onHand", i.reserved from inventory_items i
  where i.sku in (${ORDER_SKUS}) order by i.sku for update of i`;

// The stock rows of several sagas' orders ($1: their ids), locked in SKU order (group commit).
const STOCK_OF_SAGAS = `select 1 from inventory_items i
  where i.sku in (select line->>'sku' from orders o, jsonb_array_elements(o.medications) as line
    where o.saga_id = any($1::uuid[]))
  order by i.sku for update of i`;

export const reserveInventory = taskWork<StepOutcome, StockLevel[]>({
  read: (tx, sagaId) => runPrepared<StockLevel>(tx, STOCK, [sagaId]),
  lockMany: (tx, sagaIds) => runPrepared(tx, STOCK_OF_SAGAS, [sagaIds]),
  decide: ({ order }, stock) => {
    const plan = planReservation(mergeLines(order.medications), stock);
    if (!plan.ok) {
      return {
        type: 'order.inventory_reservation_failed',
        payload: {
          orderId: order.orderId,
          reason: describeShortages(plan.shortages),
          code: 'INSUFFICIENT_STOCK',
          shortages: plan.shortages,
        },
      };
    }
    return {
      type: 'order.inventory_reserved',
      payload: { orderId: order.orderId, lines: plan.lines },
    };
  },
});
