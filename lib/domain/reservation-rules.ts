import type { OrderLine } from '@/lib/saga/events';

export interface StockLevel {
  sku: string;
  onHand: number;
  reserved: number;
}

export interface Shortage {
  sku: string;
  requested: number;
  available: number;
}

export type ReservationPlan =
  { ok: true; lines: OrderLine[] } | { ok: false; shortages: Shortage[] };

/** Lines for the same SKU count together: two lines of 3 need 6 available. */
export function mergeLines(lines: readonly OrderLine[]): OrderLine[] {
  const bySku = new Map<string, number>();
  for (const l of lines) bySku.set(l.sku, (bySku.get(l.sku) ?? 0) + l.quantity);
  return [...bySku]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * All or nothing: every line is reserved, or none is and the shortages say why. The caller
 * holds row locks on the stock it passes in, so the plan cannot be overtaken.
 */
export function planReservation(
  lines: readonly OrderLine[],
  stock: readonly StockLevel[],
): ReservationPlan {
  const levels = new Map(stock.map((s) => [s.sku, s]));
  const merged = mergeLines(lines);
  const shortages: Shortage[] = [];
  for (const line of merged) {
    const level = levels.get(line.sku);
    const available = level ? level.onHand - level.reserved : 0;
    if (line.quantity > available)
      shortages.push({ sku: line.sku, requested: line.quantity, available });
  }
  return shortages.length > 0 ? { ok: false, shortages } : { ok: true, lines: merged };
}

export function describeShortages(shortages: readonly Shortage[]): string {
  return `insufficient stock: ${shortages
    .map((s) => `${s.sku} (requested ${s.requested}, available ${s.available})`)
    .join(', ')}`;
}
