/**
 * The in-product alert rules (DESIGN.md "Alerts"), pure: measured facts and thresholds in,
 * which alerts fire and which resolve out. The facts are measured in SQL by the database's
 * clock (db/alerts.ts); this module never reads a clock or the database.
 */

export const ALERT_RULES = [
  'interventions_waiting',
  'sagas_stalled',
  'success_rate_low',
  'queue_backlog',
  'no_live_worker',
] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

export type AlertSeverity = 'warning' | 'critical';

/** Where a human looks first; the dashboard's banner links there. */
export const ALERT_RULE_INFO: Record<
  AlertRule,
  { severity: AlertSeverity; title: string; href: string; cause: string }
> = {
  interventions_waiting: {
    severity: 'warning',
    title: 'Sagas waiting for intervention',
    href: '/interventions',
    cause: 'intervention queue',
  },
  sagas_stalled: {
    severity: 'warning',
    title: 'Stalled sagas',
    href: '/interventions',
    cause: 'stalled sagas',
  },
  success_rate_low: {
    severity: 'critical',
    title: 'Low success rate',
    href: '/sagas?state=CANCELLED',
    cause: 'cancelled sagas',
  },
  queue_backlog: {
    severity: 'warning',
    title: 'Queue backlog',
    href: '/sagas',
    cause: 'backlog',
  },
  no_live_worker: {
    severity: 'critical',
    title: 'No live worker',
    href: '/sagas',
    cause: 'sagas in flight',
  },
};

/** Heartbeats older than this mean no worker is alive (DESIGN.md: 60 s, not configurable). */
const NO_WORKER_AFTER_SECONDS = 60;

export interface AlertThresholds {
  interventions: number;
  interventionsForSeconds: number;
  successRate: number;
  successMinFinished: number;
  backlogSeconds: number;
}

/** What the database says right now; ages are in seconds by the database's clock. */
export interface AlertFacts {
  interventionsWaiting: number;
  /** Age of the oldest flag among them; null when none. */
  oldestInterventionSeconds: number | null;
  /** Sagas flagged by the stall detector that still wait for a human. */
  stalledSagas: number;
  /** Sagas that finished in the last hour. */
  lastHourCompleted: number;
  lastHourCancelled: number;
  /** How long the oldest job that could run now has waited; null when none. */
  oldestRunnableJobSeconds: number | null;
  sagasInFlight: number;
  /** Since the least recently updated in-flight saga last moved; null when none. */
  oldestInFlightSeconds: number | null;
  /** Age of the newest worker heartbeat; null when there is none at all. */
  newestHeartbeatSeconds: number | null;
}

export interface Condition {
  holds: boolean;
  /** In words, for the banner and the webhook's `summary` annotation. */
  summary: string;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const seconds = (s: number) => (s < 120 ? `${Math.floor(s)} s` : `${Math.floor(s / 60)} min`);

export function evaluateConditions(
  f: AlertFacts,
  t: AlertThresholds,
): Record<AlertRule, Condition> {
  const finished = f.lastHourCompleted + f.lastHourCancelled;
  const rate = finished === 0 ? null : f.lastHourCompleted / finished;
  const oldest = f.oldestInterventionSeconds ?? 0;
  const backlog = f.oldestRunnableJobSeconds ?? 0;
  const heartbeat = f.newestHeartbeatSeconds;
  return {
    interventions_waiting: {
      holds:
        f.interventionsWaiting >= t.interventions &&
        f.oldestInterventionSeconds !== null &&
        oldest >= t.interventionsForSeconds,
      summary: `${plural(f.interventionsWaiting, 'saga')} need${f.interventionsWaiting === 1 ? 's' : ''} intervention, the oldest for ${seconds(oldest)}`,
    },
    sagas_stalled: {
      holds: f.stalledSagas > 0,
      summary: `${plural(f.stalledSagas, 'saga')} stalled (no progress and no job queued)`,
    },
    success_rate_low: {
      holds: rate !== null && finished >= t.successMinFinished && rate < t.successRate,
      summary: `success rate ${rate === null ? '—' : `${(rate * 100).toFixed(1)} %`} over the last hour (${plural(finished, 'finished saga')}), below ${(t.successRate * 100).toFixed(0)} %`,
    },
    queue_backlog: {
      holds: f.oldestRunnableJobSeconds !== null && backlog > t.backlogSeconds,
      summary: `the oldest runnable job has waited ${seconds(backlog)}`,
    },
    // Both for over a minute: no heartbeat, and a saga waiting. Right after a first start,
    // sagas accepted before the first worker's first beat are not an alert yet.
    no_live_worker: {
      holds:
        f.sagasInFlight > 0 &&
        (f.oldestInFlightSeconds ?? 0) > NO_WORKER_AFTER_SECONDS &&
        (heartbeat === null || heartbeat > NO_WORKER_AFTER_SECONDS),
      summary: `no worker heartbeat for ${heartbeat === null ? 'ever' : seconds(heartbeat)} while ${plural(f.sagasInFlight, 'saga')} ${f.sagasInFlight === 1 ? 'is' : 'are'} in flight`,
    },
  };
}

export interface FiringAlert {
  alertId: string;
  rule: AlertRule;
}

export interface AlertTransitions {
  fire: { rule: AlertRule; summary: string }[];
  resolve: FiringAlert[];
}

/**
 * An alert fires once when its condition starts to hold, stays firing (nothing to do) while it
 * holds, and resolves when it clears. `firing` is what the alert table says is firing now.
 */
export function alertTransitions(
  firing: readonly FiringAlert[],
  conditions: Record<AlertRule, Condition>,
): AlertTransitions {
  const firingRules = new Set(firing.map((a) => a.rule));
  return {
    fire: ALERT_RULES.filter((rule) => conditions[rule].holds && !firingRules.has(rule)).map(
      (rule) => ({ rule, summary: conditions[rule].summary }),
    ),
    resolve: firing.filter((a) => !conditions[a.rule].holds),
  };
}

export const isAlertRule = (value: string): value is AlertRule =>
  (ALERT_RULES as readonly string[]).includes(value);
