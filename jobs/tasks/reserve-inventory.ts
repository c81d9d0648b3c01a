import { rawSql } from '@/db/saga-store';
import { describeShortages, mergeLines, planReservation } from '@/lib/domain/reservation-rules';
import type { StepHandler } from '../task-context';

export const reserveInventory: StepHandler = async ({ tx, order }) => {
  const lines = mergeLines(order.medications);
  // Lock the stock rows in SKU order so two orders for the same SKUs queue instead of deadlocking;
  // the projection of the event below then raises `reserved` under the same locks.
  const stock = await rawSql(tx)<{ sku: string; onHand: number; reserved: number }[]>`
    select sku, on_hand as "onHand", reserved from inventory_items
    where sku = any(${lines.map((l) => l.sku)}::text[]) order by sku for update`;
  const plan = planReservation(lines, stock);
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
};
