import { randomUUID } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import {
  ALERT_RULE_INFO,
  isAlertRule,
  type AlertFacts,
  type AlertRule,
  type FiringAlert,
} from '@/lib/alerts/rules';
import { renderWebhookBody, retryDelaySeconds } from '@/lib/alerts/webhook';
import type { Database, DbOrTx, Tx } from './client';
import { alertDeliveries, alertEvaluator, alerts } from './schema';

/**
 * Alert state, history and the webhook outbox (docs/alerts.md). Every time here is the
 * database's: facts are measured with now(), leases and backoff are set with now(), so processes
 * on machines with skewed clocks still agree.
 */

/** Arbitrary but fixed: every RxSaga process agrees on it (db/migrate.ts uses …001). */
const ALERT_EVALUATOR_LOCK_KEY = 7_201_652_012;

/**
 * Claims this round of evaluation, inside the caller's transaction: a transaction-scoped
 * advisory lock (a second evaluator does not wait, it skips), then the evaluator row is
 * stamped only when the last evaluation is old enough, so N processes together still evaluate
 * about once every `everySeconds`. Returns false when another process has this round.
 */
export async function claimEvaluation(tx: Tx, by: string, everySeconds: number): Promise<boolean> {
  const [lock] = await tx.execute<{ locked: boolean }>(
    sql`select pg_try_advisory_xact_lock(${ALERT_EVALUATOR_LOCK_KEY}) as locked`,
  );
  if (!lock?.locked) return false;
  // 90 %: timers in different processes drift; a round must not be skipped for a few ms.
  const claimed = await tx
    .update(alertEvaluator)
    .set({
      lastEvaluatedAt: sql`now()`,
      evaluatedBy: by,
      evaluations: sql`${alertEvaluator.evaluations} + 1`,
    })
    .where(
      and(
        eq(alertEvaluator.id, 1),
        sql`(${alertEvaluator.lastEvaluatedAt} is null or ${alertEvaluator.lastEvaluatedAt} <= now() - make_interval(secs => ${everySeconds * 0.9}))`,
      ),
    )
    .returning({ id: alertEvaluator.id });
  return claimed.length === 1;
}

/**
 * The facts of every rule in one statement, none of which grows with history: the counts of
 * flagged, stalled and in-flight sagas from the metric counters (kept by the saga trigger,
 * migration 0017_in_flight_gauges_and_indexes; in flight is started − completed − cancelled), the oldest of each
 * from the first entry of its partial index (sagas_needs_intervention_idx,
 * sagas_in_flight_updated_at_idx), the last hour's finished sagas (sagas_completed_at_idx),
 * runnable jobs, heartbeats.
 */
export async function measureAlertFacts(db: DbOrTx): Promise<AlertFacts> {
  const age = (column: string) => sql.raw(`extract(epoch from now() - ${column})::float8`);
  const [row] = await db.execute<{
    interventions_waiting: number;
    oldest_intervention_seconds: number | null;
    stalled_sagas: number;
    last_hour_completed: number;
    last_hour_cancelled: number;
    oldest_runnable_job_seconds: number | null;
    sagas_in_flight: number;
    oldest_in_flight_seconds: number | null;
    newest_heartbeat_seconds: number | null;
  }>(sql`
    select c.interventions_waiting, f.oldest_intervention_seconds, c.stalled_sagas,
      h.last_hour_completed, h.last_hour_cancelled, j.oldest_runnable_job_seconds,
      c.sagas_in_flight, i.oldest_in_flight_seconds, w.newest_heartbeat_seconds
    from (
      select coalesce(sum(value) filter (where name = 'sagas_needing_intervention'), 0)::int
          as interventions_waiting,
        coalesce(sum(value) filter (where name = 'sagas_stalled'), 0)::int as stalled_sagas,
        coalesce(sum(case name when 'sagas_started' then value else -value end)
          filter (where name in ('sagas_started', 'sagas_completed', 'sagas_cancelled')), 0)::int
          as sagas_in_flight
      from (select name, value from metric_counters
            union all select name, value from metric_counter_deltas) counters
      where name in ('sagas_needing_intervention', 'sagas_stalled', 'sagas_started',
        'sagas_completed', 'sagas_cancelled')) c,
    (
      select ${age('min(intervention_since)')} as oldest_intervention_seconds
      from order_fulfillment_sagas where needs_intervention) f,
    (
      select count(*) filter (where state = 'COMPLETED')::int as last_hour_completed,
        count(*) filter (where state = 'CANCELLED')::int as last_hour_cancelled
      from order_fulfillment_sagas
      where completed_at is not null and completed_at >= now() - interval '1 hour') h,
    (
      select ${age('min(updated_at)')} as oldest_in_flight_seconds
      from order_fulfillment_sagas where not saga_state_is_terminal(state)) i,
    (
      select ${age('min(run_at)')} as oldest_runnable_job_seconds
      from graphile_worker.jobs
      where locked_at is null and run_at <= now() and attempts < max_attempts) j,
    (select ${age('max(last_seen_at)')} as newest_heartbeat_seconds from worker_heartbeats) w`);
  if (!row) throw new Error('alert facts: no row');
  return {
    interventionsWaiting: row.interventions_waiting,
    oldestInterventionSeconds: row.oldest_intervention_seconds,
    stalledSagas: row.stalled_sagas,
    lastHourCompleted: row.last_hour_completed,
    lastHourCancelled: row.last_hour_cancelled,
    oldestRunnableJobSeconds: row.oldest_runnable_job_seconds,
    sagasInFlight: row.sagas_in_flight,
    oldestInFlightSeconds: row.oldest_in_flight_seconds,
    newestHeartbeatSeconds: row.newest_heartbeat_seconds,
  };
}

export async function listFiringAlerts(db: DbOrTx): Promise<FiringAlert[]> {
  const rows = await db
    .select({ alertId: alerts.alertId, rule: alerts.rule })
    .from(alerts)
    .where(eq(alerts.status, 'firing'));
  return rows.flatMap((r) => (isAlertRule(r.rule) ? [{ alertId: r.alertId, rule: r.rule }] : []));
}

type AlertRow = typeof alerts.$inferSelect;

/** Fires a rule's alert and queues its firing message for every webhook URL. */
export async function openAlert(
  tx: Tx,
  rule: AlertRule,
  summary: string,
  webhookUrls: readonly string[],
): Promise<AlertRow> {
  const [row] = await tx
    .insert(alerts)
    .values({
      alertId: randomUUID(),
      rule,
      severity: ALERT_RULE_INFO[rule].severity,
      summary,
      status: 'firing',
      startedAt: sql`now()`,
    })
    .returning();
  await queueAlertChange(tx, row!, webhookUrls);
  return row!;
}

/** Resolves a firing alert and queues its resolution for every webhook URL. */
export async function resolveAlert(
  tx: Tx,
  alertId: string,
  webhookUrls: readonly string[],
): Promise<AlertRow | null> {
  const [row] = await tx
    .update(alerts)
    .set({ status: 'resolved', resolvedAt: sql`now()` })
    .where(and(eq(alerts.alertId, alertId), eq(alerts.status, 'firing')))
    .returning();
  if (row) await queueAlertChange(tx, row, webhookUrls);
  return row ?? null;
}

/** The outbox rows of one alert change; a repeat of the same change is a no-op. */
async function queueAlertChange(tx: Tx, alert: AlertRow, webhookUrls: readonly string[]) {
  if (webhookUrls.length === 0) return;
  const body = renderWebhookBody({
    alertId: alert.alertId,
    alertname: alert.rule,
    severity: alert.severity,
    summary: alert.summary,
    status: alert.status,
    startsAt: alert.startedAt,
    endsAt: alert.resolvedAt,
    generatorPath: isAlertRule(alert.rule) ? ALERT_RULE_INFO[alert.rule].href : '/alerts',
  });
  await queueDeliveries(tx, alert.alertId, alert.status, body, webhookUrls);
}

async function queueDeliveries(
  tx: DbOrTx,
  alertId: string | null,
  change: (typeof alertDeliveries.$inferInsert)['change'],
  body: string,
  webhookUrls: readonly string[],
): Promise<string[]> {
  const rows = await tx
    .insert(alertDeliveries)
    .values(
      webhookUrls.map((url) => ({
        deliveryId: randomUUID(),
        alertId,
        change,
        url,
        body,
        status: 'pending' as const,
        nextAttemptAt: sql`now()`,
        createdAt: sql`now()`,
      })),
    )
    .onConflictDoNothing()
    .returning({ deliveryId: alertDeliveries.deliveryId });
  return rows.map((r) => r.deliveryId);
}

/** An admin's test message: a firing `rxsaga_test` alert for every URL, no alert row. */
const TEST_ALERT_NAME = 'rxsaga_test';

export async function queueTestAlert(
  tx: Tx,
  webhookUrls: readonly string[],
  actor: string,
): Promise<string[]> {
  const [now] = await tx.execute<{ now: string }>(sql`select now()::text as now`);
  const body = renderWebhookBody({
    alertId: randomUUID(),
    alertname: TEST_ALERT_NAME,
    severity: 'info',
    summary: `Test alert sent by ${actor} from the RxSaga dashboard`,
    status: 'firing',
    startsAt: new Date(now!.now),
    endsAt: null,
    generatorPath: '/alerts',
  });
  return queueDeliveries(tx, null, 'test', body, webhookUrls);
}

// ---- reading ------------------------------------------------------------------------------

export interface AlertView {
  alertId: string;
  rule: string;
  severity: string;
  status: 'firing' | 'resolved';
  summary: string;
  startedAt: string;
  resolvedAt: string | null;
}

const ALERT_HISTORY_SIZE = 100;

/** GET /api/alerts: every firing alert (newest first), then the recent history. */
export async function listAlerts(
  db: DbOrTx,
  historySize = ALERT_HISTORY_SIZE,
): Promise<AlertView[]> {
  const [firing, resolved] = await Promise.all([
    db.select().from(alerts).where(eq(alerts.status, 'firing')).orderBy(desc(alerts.startedAt)),
    db
      .select()
      .from(alerts)
      .where(eq(alerts.status, 'resolved'))
      .orderBy(desc(alerts.startedAt))
      .limit(historySize),
  ]);
  return [...firing, ...resolved].map((a) => ({
    alertId: a.alertId,
    rule: a.rule,
    severity: a.severity,
    status: a.status,
    summary: a.summary,
    startedAt: a.startedAt.toISOString(),
    resolvedAt: a.resolvedAt?.toISOString() ?? null,
  }));
}

// ---- delivery -------------------------------------------------------------------------------

/**
 * How long a claimed delivery is its sender's: longer than a request may take
 * (DELIVERY_TIMEOUT_MS), so a lease never runs out while its POST is still in flight, and
 * short enough that a delivery whose sender died is sent again soon.
 */
export const DELIVERY_TIMEOUT_MS = 10_000;
const DELIVERY_LEASE_SECONDS = 15;

export interface ClaimedDelivery {
  deliveryId: string;
  url: string;
  body: string;
  attempts: number;
  /** The claim's own token: only the holder of this lease may record the outcome. */
  lease: string;
}

/**
 * Claims up to `limit` due deliveries for this sender. SKIP LOCKED and the lease make two
 * senders never hold the same delivery; the attempt is counted at the claim, so one that
 * crashes mid-send still counts for the backoff.
 */
export async function claimDueDeliveries(
  db: Database,
  sender: string,
  limit: number,
): Promise<ClaimedDelivery[]> {
  const lease = `${sender}/${randomUUID()}`;
  const rows = await db.execute<{
    delivery_id: string;
    url: string;
    body: string;
    attempts: number;
  }>(sql`
    update alert_deliveries set
      lease_until = now() + make_interval(secs => ${DELIVERY_LEASE_SECONDS}),
      leased_by = ${lease}, attempts = attempts + 1, last_attempt_at = now()
    where delivery_id in (
      select delivery_id from alert_deliveries
      where status = 'pending' and next_attempt_at <= now()
        and (lease_until is null or lease_until < now())
      order by next_attempt_at
      limit ${limit}
      for update skip locked)
    returning delivery_id, url, body, attempts`);
  return rows.map((r) => ({
    deliveryId: r.delivery_id,
    url: r.url,
    body: r.body,
    attempts: r.attempts,
    lease,
  }));
}

export type DeliveryOutcome =
  { ok: true; status: number } | { ok: false; status: number | null; error: string };

/**
 * Records how an attempt went, if the lease is still ours. A failure schedules the next
 * attempt with exponential backoff; the row is pending until some attempt gets a 2xx.
 */
export async function recordDeliveryOutcome(
  db: DbOrTx,
  claim: ClaimedDelivery,
  outcome: DeliveryOutcome,
): Promise<boolean> {
  const mine = and(
    eq(alertDeliveries.deliveryId, claim.deliveryId),
    eq(alertDeliveries.leasedBy, claim.lease),
    eq(alertDeliveries.status, 'pending'),
  );
  const set = outcome.ok
    ? {
        status: 'delivered' as const,
        deliveredAt: sql`now()`,
        leaseUntil: null,
        lastStatus: outcome.status,
        lastError: null,
      }
    : {
        nextAttemptAt: sql`now() + make_interval(secs => ${retryDelaySeconds(claim.attempts)})`,
        leaseUntil: null,
        leasedBy: null,
        lastStatus: outcome.status,
        lastError: outcome.error.slice(0, 500),
      };
  const rows = await db
    .update(alertDeliveries)
    .set(set)
    .where(mine)
    .returning({ id: alertDeliveries.deliveryId });
  return rows.length === 1;
}

/**
 * An operator's "retry now" of an undelivered message: due at once (a delivery being sent
 * right now keeps its lease and its sender).
 */
export async function retryDeliveryNow(
  db: DbOrTx,
  deliveryId: string,
): Promise<'due' | 'delivered' | 'missing'> {
  const [row] = await db
    .select({ status: alertDeliveries.status })
    .from(alertDeliveries)
    .where(eq(alertDeliveries.deliveryId, deliveryId))
    .for('update');
  if (!row) return 'missing';
  if (row.status === 'delivered') return 'delivered';
  await db
    .update(alertDeliveries)
    .set({ nextAttemptAt: sql`now()` })
    .where(eq(alertDeliveries.deliveryId, deliveryId));
  return 'due';
}

export interface DeliveryView {
  deliveryId: string;
  alertId: string | null;
  rule: string;
  change: 'firing' | 'resolved' | 'test';
  /** The URL's origin only: webhook URLs often carry a token. */
  target: string;
  status: 'pending' | 'failing' | 'delivered';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

const DELIVERY_LIST_SIZE = 100;

/** The outbox for the Alerts page: undelivered first (oldest first), then recent deliveries. */
export async function listDeliveries(
  db: DbOrTx,
  target: (url: string) => string,
  size = DELIVERY_LIST_SIZE,
): Promise<DeliveryView[]> {
  const columns = {
    d: alertDeliveries,
    rule: alerts.rule,
  };
  const [pending, delivered] = await Promise.all([
    db
      .select(columns)
      .from(alertDeliveries)
      .leftJoin(alerts, eq(alerts.alertId, alertDeliveries.alertId))
      .where(eq(alertDeliveries.status, 'pending'))
      .orderBy(alertDeliveries.createdAt)
      .limit(size),
    db
      .select(columns)
      .from(alertDeliveries)
      .leftJoin(alerts, eq(alerts.alertId, alertDeliveries.alertId))
      .where(eq(alertDeliveries.status, 'delivered'))
      .orderBy(desc(alertDeliveries.createdAt))
      .limit(size),
  ]);
  return [...pending, ...delivered].map(({ d, rule }) => ({
    deliveryId: d.deliveryId,
    alertId: d.alertId,
    rule: rule ?? TEST_ALERT_NAME,
    change: d.change,
    target: target(d.url),
    status: d.status === 'delivered' ? 'delivered' : d.lastError !== null ? 'failing' : 'pending',
    attempts: d.attempts,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
    createdAt: d.createdAt.toISOString(),
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
  }));
}
