import { asc, inArray } from 'drizzle-orm';
import { inventoryItems } from '@/db/schema';
import { describeShortages, mergeLines, planReservation } from '@/lib/domain/reservation-rules';
import type { StepHandler } from '../task-context';

export const reserveInventory: StepHandler = async ({ tx, order }) => {
  const lines = mergeLines(order.medications);
  // Lock the stock rows in SKU order so two orders for the same SKUs queue instead of deadlocking;
  // the projection of the event below then raises `reserved` under the same locks.
  const stock = await tx
    .select({ sku: inventoryItems.sku, onHand: inventoryItems.onHand, reserved: inventoryItems.reserved })
    .from(inventoryItems)
    .where(inArray(inventoryItems.sku, lines.map((l) => l.sku)))
    .orderBy(asc(inventoryItems.sku))
    .for('update');
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
  return { type: 'order.inventory_reserved', payload: { orderId: order.orderId, lines: plan.lines } };
};
