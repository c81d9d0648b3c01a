import { asc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { inventoryItems, medications } from '../schema';

export interface CatalogItem {
  sku: string;
  name: string;
  requiresPrescription: boolean;
  maxQuantityPerOrder: number;
}

export interface InventoryItem {
  sku: string;
  name: string;
  onHand: number;
  reserved: number;
  available: number;
}

export async function listCatalog(db: DbOrTx): Promise<CatalogItem[]> {
  return db
    .select({
      sku: medications.sku,
      name: medications.name,
      requiresPrescription: medications.requiresPrescription,
      maxQuantityPerOrder: medications.maxQuantityPerOrder,
    })
    .from(medications)
    .orderBy(asc(medications.sku));
}

export async function listInventory(db: DbOrTx): Promise<InventoryItem[]> {
  return db
    .select({
      sku: inventoryItems.sku,
      name: medications.name,
      onHand: inventoryItems.onHand,
      reserved: inventoryItems.reserved,
      available: sql<number>`${inventoryItems.onHand} - ${inventoryItems.reserved}`.mapWith(Number),
    })
    .from(inventoryItems)
    .innerJoin(medications, eq(medications.sku, inventoryItems.sku))
    .orderBy(asc(inventoryItems.sku));
}
