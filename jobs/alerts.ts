import { hostname } from 'node:os';
import { getDb, type Database } from '@/db/client';
import {
  claimDueDeliveries,
  claimEvaluation,
  DELIVERY_TIMEOUT_MS,
  listFiringAlerts,
  measureAlertFacts,
  openAlert,
  recordDeliveryOutcome,
  resolveAlert,
  type ClaimedDelivery,
  type DeliveryOutcome,
} from '@/db/alerts';
import {
  alertTransitions,
  evaluateConditions,
  type AlertRule,
  type AlertThresholds,
} from '@/lib/alerts/rules';
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signWebhookBody,
  webhookTarget,
} from '@/lib/alerts/webhook';
import { getEnv, type Env } from '@/lib/env';
import { logger } from '@/server/logger';

/**
 * The alert loop every worker and every web process runs (docs/alerts.md): evaluate the rules
 * (one process at a time, whoever gets the lock) and send what the outbox holds (each delivery
 * claimed by one sender with a lease). Web processes run it too so that `no_live_worker`
 * is raised, and delivered, when no worker is left to do it.
 */

export interface AlertSettings {
  everySeconds: number;
  thresholds: AlertThresholds;
  webhookUrls: readonly string[];
  webhookSecret: string | undefined;
}

export function alertSettingsOf(env: Env): AlertSettings {
  return {
    everySeconds: env.RXSAGA_ALERT_EVALUATE_SECONDS,
    thresholds: {
      interventions: env.RXSAGA_ALERT_INTERVENTIONS,
      interventionsForSeconds: env.RXSAGA_ALERT_INTERVENTIONS_FOR_SECONDS,
      successRate: env.RXSAGA_ALERT_SUCCESS_RATE,
      successMinFinished: env.RXSAGA_ALERT_SUCCESS_MIN_FINISHED,
      backlogSeconds: env.RXSAGA_ALERT_BACKLOG_SECONDS,
    },
    webhookUrls: env.RXSAGA_ALERT_WEBHOOK_URLS,
    webhookSecret: env.RXSAGA_ALERT_WEBHOOK_SECRET,
  };
}

export type EvaluationResult =
  { evaluated: false } | { evaluated: true; fired: AlertRule[]; resolved: AlertRule[] };

/**
 * One evaluation, in one transaction: claim the round, measure, decide, and write the alert
 * changes together with their outbox rows (so a change is never recorded without its
 * messages, nor a message queued for a change that rolled back).
 */
export async function evaluateAlerts(
  db: Database,
  by: string,
  s: AlertSettings,
): Promise<EvaluationResult> {
  return db.transaction(async (tx) => {
    if (!(await claimEvaluation(tx, by, s.everySeconds))) return { evaluated: false };
    const [facts, firing] = await Promise.all([measureAlertFacts(tx), listFiringAlerts(tx)]);
    const { fire, resolve } = alertTransitions(firing, evaluateConditions(facts, s.thresholds));
    for (const f of fire) {
      await openAlert(tx, f.rule, f.summary, s.webhookUrls);
      logger.warn({ rule: f.rule, event: 'alert.firing' }, `alert firing: ${f.summary}`);
    }
    for (const r of resolve) {
      await resolveAlert(tx, r.alertId, s.webhookUrls);
      logger.info({ rule: r.rule, event: 'alert.resolved' }, `alert resolved: ${r.rule}`);
    }
    return {
      evaluated: true,
      fired: fire.map((f) => f.rule),
      resolved: resolve.map((r) => r.rule),
    };
  });
}

/** One POST of a claimed delivery. The outcome counts only once the whole answer is read. */
async function sendDelivery(
  claim: ClaimedDelivery,
  secret: string | undefined,
): Promise<DeliveryOutcome> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'RxSaga-Alerts/1',
    [DELIVERY_HEADER]: claim.deliveryId,
    // The same id under the name many HTTP APIs already dedupe on.
    'idempotency-key': claim.deliveryId,
  };
  if (secret) headers[SIGNATURE_HEADER] = signWebhookBody(claim.body, secret);
  try {
    const response = await fetch(claim.url, {
      method: 'POST',
      headers,
      body: claim.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    const text = await response.text();
    if (response.status >= 200 && response.status < 300)
      return { ok: true, status: response.status };
    return {
      ok: false,
      status: response.status,
      error: `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, status: null, error: cause?.code ?? cause?.message ?? message };
  }
}

/** Claims what is due and sends it; returns how many were delivered. */
export async function deliverDueAlerts(
  db: Database,
  sender: string,
  secret: string | undefined,
  limit = 10,
): Promise<number> {
  const claims = await claimDueDeliveries(db, sender, limit);
  const results = await Promise.all(
    claims.map(async (claim) => {
      const outcome = await sendDelivery(claim, secret);
      const recorded = await recordDeliveryOutcome(db, claim, outcome);
      const log = {
        deliveryId: claim.deliveryId,
        target: webhookTarget(claim.url),
        attempt: claim.attempts,
      };
      if (!recorded) logger.warn(log, 'alert delivery: lease lost before the outcome was recorded');
      else if (outcome.ok) logger.info({ ...log, event: 'alert.delivered' }, 'alert delivered');
      else
        logger.warn(
          { ...log, error: outcome.error, event: 'alert.delivery_failed' },
          'alert delivery failed; will retry',
        );
      return outcome.ok && recorded ? 1 : 0;
    }),
  );
  return results.reduce<number>((a, b) => a + b, 0);
}

export interface AlertLoop {
  stop: () => Promise<void>;
}

/** How often the outbox is polled: a new change goes out within about a second. */
const DELIVERY_POLL_MS = 1000;

/**
 * Runs evaluation every `everySeconds` and delivery every second, never two passes of the
 * same kind at once in this process. stop() waits for a pass in progress (a POST is bounded by
 * DELIVERY_TIMEOUT_MS), so a graceful stop does not leave a sent-but-unrecorded delivery.
 */
export function startAlertLoop(db: Database, by: string, s: AlertSettings): AlertLoop {
  let stopped = false;
  const running = new Set<Promise<unknown>>();
  const every = (ms: number, pass: () => Promise<unknown>, what: string) => {
    let busy = false;
    const tick = () => {
      if (busy || stopped) return;
      busy = true;
      const p = pass()
        .catch((err: unknown) => logger.warn({ err }, `${what} failed; will try again`))
        .finally(() => {
          busy = false;
          running.delete(p);
        });
      running.add(p);
    };
    tick();
    return setInterval(tick, ms);
  };
  const timers = [
    every(s.everySeconds * 1000, () => evaluateAlerts(db, by, s), 'alert evaluation'),
    every(DELIVERY_POLL_MS, () => deliverDueAlerts(db, by, s.webhookSecret), 'alert delivery'),
  ];
  return {
    stop: async () => {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.all(running);
    },
  };
}

/** The web process's loop (instrumentation.ts); it runs until the process ends. */
export function startWebAlertLoop(): void {
  const g = globalThis as unknown as { rxsagaWebAlertLoop?: AlertLoop };
  if (g.rxsagaWebAlertLoop) return; // dev reloads
  const env = getEnv();
  if (!env.DATABASE_URL) return;
  g.rxsagaWebAlertLoop = startAlertLoop(
    getDb(),
    `web:${hostname()}:${process.pid}`,
    alertSettingsOf(env),
  );
}
