import type { OrderLine } from '@/lib/saga/events';
import { mergeLines } from './reservation-rules';

export const REVOKED_PRESCRIBER_ID = 'PR-REVOKED';

export interface CatalogEntry {
  sku: string;
  name: string;
  requiresPrescription: boolean;
  maxQuantityPerOrder: number;
}

export type PrescriptionCheck =
  | { ok: true }
  | {
      ok: false;
      code:
        | 'PRESCRIBER_REVOKED'
        | 'QUANTITY_LIMIT_EXCEEDED'
        | 'PRESCRIBER_REQUIRED'
        | 'UNKNOWN_MEDICATION';
      reason: string;
    };

/**
 * Whether a prescription can be issued for these lines by this prescriber. The quantity limit
 * is per order: two lines of one medication count together, or splitting a line would dodge it.
 */
export function checkPrescription(
  lines: readonly OrderLine[],
  prescriberId: string | null,
  catalog: ReadonlyMap<string, CatalogEntry>,
): PrescriptionCheck {
  if (prescriberId === REVOKED_PRESCRIBER_ID) {
    return {
      ok: false,
      code: 'PRESCRIBER_REVOKED',
      reason: `prescriber ${prescriberId} has a revoked licence`,
    };
  }
  for (const line of mergeLines(lines)) {
    const entry = catalog.get(line.sku);
    if (!entry) {
      return {
        ok: false,
        code: 'UNKNOWN_MEDICATION',
        reason: `medication ${line.sku} is not in the catalog`,
      };
    }
    if (line.quantity > entry.maxQuantityPerOrder) {
      return {
        ok: false,
        code: 'QUANTITY_LIMIT_EXCEEDED',
        reason: `${line.quantity} × ${entry.name} exceeds the limit of ${entry.maxQuantityPerOrder} per order`,
      };
    }
    if (entry.requiresPrescription && !prescriberId) {
      return {
        ok: false,
        code: 'PRESCRIBER_REQUIRED',
        reason: `${entry.name} requires a prescriber`,
      };
    }
  }
  return { ok: true };
}
