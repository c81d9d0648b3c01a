import type { ChaosApi, ApiResponse } from './api';
import { backoffMs, RetryBudget } from './retry-budget';
import { sleep, type Rng } from './rng';

/**
 * The order mix. Every scenario has a deterministic business outcome (DESIGN.md "Domain
 * rules"), so the invariants can tell a rule that was broken from one that was merely raced.
 */
export const SCENARIOS = [
  'happy',
  'revoked',
  'over-max',
  'undeliverable',
  'flaky-503',
  'needs-human-504',
  'contention',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

const WEIGHTS: [Scenario, number][] = [
  ['happy', 40],
  ['revoked', 8],
  ['over-max', 7],
  ['undeliverable', 8],
  ['flaky-503', 8],
  ['needs-human-504', 5],
  ['contention', 24],
];

/** Plentiful stock; the scarce SKU is the one the contention orders fight over. */
const PLENTIFUL = [
  { sku: 'AMOX-500', max: 3 },
  { sku: 'ATOR-20', max: 3 },
  { sku: 'METF-850', max: 4 },
  { sku: 'IBU-400', max: 2 },
  { sku: 'PARA-500', max: 2 },
  { sku: 'CETI-10', max: 3 },
];
export const SCARCE_SKU = 'INSU-GLAR';
const SCARCE_MAX = 5;

/** Scenarios whose orders must never complete, whatever the faults. */
export const MUST_NOT_COMPLETE: readonly Scenario[] = [
  'revoked',
  'over-max',
  'undeliverable',
  'needs-human-504',
];

export interface OrderBody {
  orderId: string;
  patientId: string;
  prescriberId: string;
  medications: { sku: string; quantity: number }[];
  shippingAddress: { line1: string; city: string; postalCode: string; country: string };
}

export interface TrackedOrder {
  n: number;
  key: string;
  scenario: Scenario;
  body: OrderBody;
  /** The API confirmed it (201, or 200 for a replay): it must exist exactly once. */
  confirmed: boolean;
  sagaId: string | null;
  /** Submissions with this key (1 + concurrent duplicates). */
  submissions: number;
  /** Orders/sagas named by the responses: more than one is a duplicated order. */
  namedOrders: Set<string>;
  namedSagas: Set<string>;
  createdAt: number;
}

export interface LoadStats {
  requests: number;
  /** Network errors and 5xx, each answered by trying again with the same key. */
  retriedErrors: number;
  /** Retries the budget held back (the order waited its backoff again before asking anew). */
  retriesHeldBack: number;
  status: Map<number, number>;
  duplicateSubmissions: number;
  conflictProbes: number;
  conflictProbesRefused: number;
  unexpected: string[];
  unconfirmed: number;
}

function buildOrder(rng: Rng, n: number, seed: number): { scenario: Scenario; body: OrderBody } {
  const scenario = rng.weighted(WEIGHTS);
  const line = () => {
    const m = rng.pick(PLENTIFUL);
    return { sku: m.sku, quantity: rng.int(1, m.max) };
  };
  const body: OrderBody = {
    orderId: `CHAOS-${seed}-${n}`,
    patientId: `PAT-${rng.int(1000, 9999)}`,
    prescriberId: `PR-${rng.int(2000, 2999)}`,
    medications: [line()],
    shippingAddress: {
      line1: `${rng.int(1, 400)} Canal Street`,
      city: 'Amsterdam',
      postalCode: '1011AB',
      country: 'NL',
    },
  };
  if (rng.chance(0.3)) {
    const extra = line();
    if (!body.medications.some((m) => m.sku === extra.sku)) body.medications.push(extra);
  }
  switch (scenario) {
    case 'revoked':
      body.prescriberId = 'PR-REVOKED';
      break;
    case 'over-max': {
      const m = rng.pick(PLENTIFUL);
      body.medications = [{ sku: m.sku, quantity: m.max + 1 }];
      break;
    }
    case 'undeliverable':
      body.shippingAddress.postalCode = '00000';
      break;
    case 'flaky-503':
      body.shippingAddress.postalCode = '00503';
      break;
    case 'needs-human-504':
      body.shippingAddress.postalCode = '00504';
      break;
    case 'contention':
      body.medications = [{ sku: SCARCE_SKU, quantity: rng.int(2, SCARCE_MAX) }];
      break;
    case 'happy':
      break;
  }
  return { scenario, body };
}

const isRetryable = (r: ApiResponse) => r.status === 0 || r.status >= 500;

export class LoadDriver {
  readonly orders: TrackedOrder[] = [];
  readonly stats: LoadStats = {
    requests: 0,
    retriedErrors: 0,
    retriesHeldBack: 0,
    status: new Map(),
    duplicateSubmissions: 0,
    conflictProbes: 0,
    conflictProbesRefused: 0,
    unexpected: [],
    unconfirmed: 0,
  };
  private inFlight = new Set<Promise<void>>();
  /** Shared by every order of this client: retries add at most a fifth to the first attempts. */
  private readonly budget = new RetryBudget();
  private stopped = false;

  constructor(
    private readonly api: ChaosApi,
    private readonly rng: Rng,
    private readonly seed: number,
    private readonly duplicates: boolean,
    /** How long one order keeps being retried through errors before the client gives up. */
    private readonly giveUpMs = 120_000,
  ) {}

  /** Open loop: `rate` new orders per second until stop(), whatever the latency. */
  async run(rate: number): Promise<void> {
    const interval = 1000 / rate;
    let next = Date.now();
    let n = 0;
    while (!this.stopped) {
      n += 1;
      const p = this.place(n).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
      next += interval;
      await sleep(Math.max(0, next - Date.now()));
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Resolves when every order has been confirmed or given up on. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  get pending(): number {
    return this.inFlight.size;
  }

  private count(r: ApiResponse): void {
    this.stats.requests += 1;
    this.stats.status.set(r.status, (this.stats.status.get(r.status) ?? 0) + 1);
  }

  private async place(n: number): Promise<void> {
    const { scenario, body } = buildOrder(this.rng, n, this.seed);
    const order: TrackedOrder = {
      n,
      key: `chaos-${this.seed}-${n}`,
      scenario,
      body,
      confirmed: false,
      sagaId: null,
      submissions: 1,
      namedOrders: new Set(),
      namedSagas: new Set(),
      createdAt: Date.now(),
    };
    this.orders.push(order);
    // Duplicate submissions: the same key and body, at the same moment (a double click, a
    // client retry racing the first request).
    const copies = this.duplicates && this.rng.chance(0.12) ? this.rng.int(1, 2) : 0;
    // Decided now, before any await, so the seed alone fixes the mix.
    const probeConflict = this.duplicates && this.rng.chance(0.04);
    order.submissions += copies;
    this.stats.duplicateSubmissions += copies;
    await Promise.all(Array.from({ length: 1 + copies }, () => this.submit(order)));
    if (!order.confirmed) {
      this.stats.unconfirmed += 1;
      return;
    }
    // The same key with a different body must be refused, never create a second order.
    if (probeConflict) {
      this.stats.conflictProbes += 1;
      const other = { ...body, patientId: `${body.patientId}-X` };
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(500)) {
        const r = await this.api.createOrder(other, order.key);
        this.count(r);
        if (isRetryable(r)) continue;
        if (r.status === 409) this.stats.conflictProbesRefused += 1;
        else this.stats.unexpected.push(`order ${n}: same key, other body answered ${r.status}`);
        break;
      }
    }
  }

  private async submit(order: TrackedOrder): Promise<void> {
    const deadline = Date.now() + this.giveUpMs;
    this.budget.deposit();
    for (let attempt = 0; ; attempt++) {
      const r = await this.api.createOrder(order.body, order.key);
      this.count(r);
      if (r.status === 201 || r.status === 200) {
        order.confirmed = true;
        const orderId = String(r.body?.orderId ?? '');
        const sagaId = String(r.body?.sagaId ?? '');
        order.namedOrders.add(orderId);
        order.namedSagas.add(sagaId);
        order.sagaId ??= sagaId;
        if (orderId !== order.body.orderId)
          this.stats.unexpected.push(`order ${order.n}: answered with order ${orderId}`);
        return;
      }
      if (!isRetryable(r) || Date.now() > deadline) {
        if (!isRetryable(r))
          this.stats.unexpected.push(
            `order ${order.n} (${order.scenario}): ${r.status} ${JSON.stringify(r.body).slice(0, 160)}`,
          );
        return;
      }
      // Back off (full jitter, at least the server's Retry-After), then wait for the budget.
      let wait = backoffMs(attempt, r.retryAfterSeconds ?? null);
      for (;;) {
        await sleep(wait);
        if (this.budget.tryRetry()) break;
        this.stats.retriesHeldBack += 1;
        if (Date.now() > deadline) return;
        wait = backoffMs(attempt, null);
      }
      this.stats.retriedErrors += 1;
    }
  }
}
