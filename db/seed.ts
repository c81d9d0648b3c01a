import { sql } from 'drizzle-orm';
import type { DbOrTx } from './client';
import { inventoryItems, medications } from './schema';

/** A small, realistic formulary: what a fresh install shows until the pharmacy loads its own. */
export const DEMO_CATALOG = [
  {
    sku: 'AMOX-500',
    name: 'Amoxicillin 500 mg capsules',
    requiresPrescription: true,
    maxQuantityPerOrder: 3,
    onHand: 400,
  },
  {
    sku: 'ATOR-20',
    name: 'Atorvastatin 20 mg tablets',
    requiresPrescription: true,
    maxQuantityPerOrder: 3,
    onHand: 300,
  },
  {
    sku: 'METF-850',
    name: 'Metformin 850 mg tablets',
    requiresPrescription: true,
    maxQuantityPerOrder: 4,
    onHand: 350,
  },
  {
    sku: 'LISI-10',
    name: 'Lisinopril 10 mg tablets',
    requiresPrescription: true,
    maxQuantityPerOrder: 3,
    onHand: 250,
  },
  {
    sku: 'LEVO-50',
    name: 'Levothyroxine 50 mcg tablets',
    requiresPrescription: true,
    maxQuantityPerOrder: 3,
    onHand: 200,
  },
  {
    sku: 'SALB-100',
    name: 'Salbutamol 100 mcg inhaler',
    requiresPrescription: true,
    maxQuantityPerOrder: 2,
    onHand: 120,
  },
  {
    sku: 'INSU-GLAR',
    name: 'Insulin glargine 100 U/ml pen',
    requiresPrescription: true,
    maxQuantityPerOrder: 5,
    onHand: 80,
  },
  {
    sku: 'IBU-400',
    name: 'Ibuprofen 400 mg tablets',
    requiresPrescription: false,
    maxQuantityPerOrder: 2,
    onHand: 600,
  },
  {
    sku: 'PARA-500',
    name: 'Paracetamol 500 mg tablets',
    requiresPrescription: false,
    maxQuantityPerOrder: 2,
    onHand: 800,
  },
  {
    sku: 'CETI-10',
    name: 'Cetirizine 10 mg tablets',
    requiresPrescription: false,
    maxQuantityPerOrder: 3,
    onHand: 500,
  },
] as const;

/** Loads the demo catalog and stock when the catalog is empty; a no-op otherwise. */
export async function seedDemoCatalog(db: DbOrTx): Promise<boolean> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(medications);
  if ((row?.n ?? 0) > 0) return false;
  await db
    .insert(medications)
    .values(DEMO_CATALOG.map(({ onHand: _onHand, ...m }) => m))
    .onConflictDoNothing();
  await db
    .insert(inventoryItems)
    .values(DEMO_CATALOG.map((m) => ({ sku: m.sku, onHand: m.onHand })))
    .onConflictDoNothing();
  return true;
}
