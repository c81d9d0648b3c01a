import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '@/db/client';
import { recordAudit, type AuditActor } from '@/db/audit';
import { inventoryItems } from '@/db/schema';
import { conflict, invalidInput, notFound } from '@/lib/errors';

export const setOnHandInputSchema = z.object({
  onHand: z.number().int().min(0).max(10_000_000),
  reason: z.string().trim().max(2000).optional(),
});

export interface StockLevel {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
}

/**
 * An operator counts the shelf and sets `onHand`. Refused (conflict) below what is reserved:
 * those units are promised to sagas in flight. The row lock makes the check and the write one
 * step, so a reservation committing in between cannot slip under the new figure.
 */
export async function setOnHand(
  db: Database,
  sku: string,
  body: unknown,
  by: AuditActor,
): Promise<StockLevel> {
  const parsed = setOnHandInputSchema.safeParse(body);
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid stock level');
  const { onHand, reason } = parsed.data;
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ onHand: inventoryItems.onHand, reserved: inventoryItems.reserved })
      .from(inventoryItems)
      .where(eq(inventoryItems.sku, sku))
      .for('update');
    if (!before) throw notFound(`no stock item ${sku}`);
    if (onHand < before.reserved) {
      throw conflict(
        `onHand ${onHand} is below the ${before.reserved} units reserved for sagas in flight`,
      );
    }
    await tx
      .update(inventoryItems)
      .set({ onHand, updatedAt: sql`now()` })
      .where(eq(inventoryItems.sku, sku));
    await recordAudit(tx, by, {
      action: 'inventory.set_on_hand',
      target: sku,
      reason: reason || null,
      before: { onHand: before.onHand, reserved: before.reserved },
      after: { onHand, reserved: before.reserved },
    });
    return { sku, onHand, reserved: before.reserved, available: onHand - before.reserved };
  });
}
