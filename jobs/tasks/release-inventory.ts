import { and, asc, eq } from 'drizzle-orm';
import { inventoryReservations } from '@/db/schema';
import type { CompensationHandler } from '../task-context';

export const releaseInventory: CompensationHandler = async ({ tx, saga }) => {
  const active = await tx
    .select({ sku: inventoryReservations.sku, quantity: inventoryReservations.quantity })
    .from(inventoryReservations)
    .where(and(eq(inventoryReservations.sagaId, saga.sagaId), eq(inventoryReservations.status, 'active')))
    .orderBy(asc(inventoryReservations.sku));
  return { type: 'order.inventory_released', payload: { orderId: saga.orderId, lines: active } };
};
