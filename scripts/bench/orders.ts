import { DEMO_CATALOG } from '@/db/seed';
import type { CreateOrderInput } from '@/server/commands/order-input';
import { OUT_OF_STOCK_SKU } from './database';

/**
 * Orders for the bench. The happy path spreads lines over the in-stock catalog (stock rows are
 * locked by the reservation step, so one hot SKU would serialise it). The failure mix adds every
 * path of the design, with the outcome each must reach.
 */
export type Outcome =
  | 'completed'
  | 'prescription_failed'
  | 'inventory_failed'
  | 'shipment_failed'
  | 'completed_after_retries';

export interface BenchOrder {
  input: CreateOrderInput;
  outcome: Outcome;
}

const IN_STOCK = DEMO_CATALOG.filter((m) => m.sku !== OUT_OF_STOCK_SKU);

/** Deterministic pseudo-random numbers, so two runs offer the same orders. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The mix: share of each outcome (the rest completes). */
const FAILURE_MIX: Record<Exclude<Outcome, 'completed'>, number> = {
  prescription_failed: 0.05,
  inventory_failed: 0.05,
  shipment_failed: 0.05,
  completed_after_retries: 0.05,
};

export function makeOrders(
  count: number,
  options: { mix: boolean; seed?: number; prefix: string },
): BenchOrder[] {
  const random = rng(options.seed ?? 42);
  const orders: BenchOrder[] = [];
  for (let i = 0; i < count; i++) {
    const lineCount = 1 + Math.floor(random() * 2);
    const first = Math.floor(random() * IN_STOCK.length);
    const medications = Array.from({ length: lineCount }, (_, k) => {
      const m = IN_STOCK[(first + k * 3) % IN_STOCK.length]!;
      return { sku: m.sku, quantity: 1 };
    });
    const input: CreateOrderInput = {
      orderId: `${options.prefix}-${String(i).padStart(7, '0')}`,
      patientId: `PAT-${1000 + Math.floor(random() * 5000)}`,
      prescriberId: `PR-${2000 + Math.floor(random() * 300)}`,
      medications,
      shippingAddress: {
        line1: `${1 + (i % 200)} Canal Street`,
        city: 'Amsterdam',
        postalCode: '1011AB',
        country: 'NL',
      },
    };
    let outcome: Outcome = 'completed';
    if (options.mix) {
      let roll = random();
      for (const [o, share] of Object.entries(FAILURE_MIX) as [
        Exclude<Outcome, 'completed'>,
        number,
      ][]) {
        if (roll < share) {
          outcome = o;
          break;
        }
        roll -= share;
      }
    }
    switch (outcome) {
      case 'prescription_failed':
        input.prescriberId = 'PR-REVOKED';
        break;
      case 'inventory_failed':
        input.medications = [...medications, { sku: OUT_OF_STOCK_SKU, quantity: 1 }];
        break;
      case 'shipment_failed':
        input.shippingAddress = { ...input.shippingAddress, postalCode: '00000' };
        break;
      case 'completed_after_retries':
        input.shippingAddress = { ...input.shippingAddress, postalCode: '00503' };
        break;
      case 'completed':
        break;
    }
    orders.push({ input, outcome });
  }
  return orders;
}

/** The terminal state, failed step and event count each outcome must end with. */
export const EXPECTED: Record<
  Outcome,
  { state: string; failedStep: string | null; events: number; compensations: number }
> = {
  completed: { state: 'COMPLETED', failedStep: null, events: 9, compensations: 0 },
  completed_after_retries: { state: 'COMPLETED', failedStep: null, events: 11, compensations: 0 },
  prescription_failed: {
    state: 'CANCELLED',
    failedStep: 'create-prescription',
    events: 8,
    compensations: 1,
  },
  inventory_failed: {
    state: 'CANCELLED',
    failedStep: 'reserve-inventory',
    events: 12,
    compensations: 2,
  },
  shipment_failed: {
    state: 'CANCELLED',
    failedStep: 'initiate-shipment',
    events: 16,
    compensations: 3,
  },
};
