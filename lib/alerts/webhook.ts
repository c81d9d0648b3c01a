import { createHmac } from 'node:crypto';

/**
 * The webhook message: Alertmanager's webhook JSON (version 4), so an alert plugs into the
 * receivers people already run (Alertmanager-compatible bridges to chat, paging, tickets).
 * Pure: the body is rendered once when the alert changes, stored in the outbox and sent
 * byte for byte on every attempt, so its signature and its delivery id never change.
 */

export const SIGNATURE_HEADER = 'x-rxsaga-signature';
/** One id per change and URL, the same on every attempt: receivers dedupe on it. */
export const DELIVERY_HEADER = 'x-rxsaga-delivery';

/** Alertmanager writes this for "no end yet" in a firing alert. */
const NO_END = '0001-01-01T00:00:00Z';

export interface AlertMessage {
  /** Stable per alert occurrence: Alertmanager's fingerprint. */
  alertId: string;
  alertname: string;
  severity: string;
  summary: string;
  status: 'firing' | 'resolved';
  startsAt: Date;
  endsAt: Date | null;
  /** Path in the dashboard that shows the cause (the banner's link). */
  generatorPath: string;
}

export interface AlertmanagerWebhook {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: {
    status: 'firing' | 'resolved';
    labels: { alertname: string; severity: string };
    annotations: { summary: string };
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }[];
}

/** Alertmanager's own receivers say which receiver got it; ours is the product itself. */
const RECEIVER = 'rxsaga';

export function renderWebhookBody(m: AlertMessage): string {
  const labels = { alertname: m.alertname, severity: m.severity };
  const annotations = { summary: m.summary };
  const body: AlertmanagerWebhook = {
    version: '4',
    groupKey: `{}:{alertname="${m.alertname}"}`,
    truncatedAlerts: 0,
    status: m.status,
    receiver: RECEIVER,
    groupLabels: { alertname: m.alertname },
    commonLabels: labels,
    commonAnnotations: annotations,
    // RxSaga does not know the address it is reached at; generatorURL is the dashboard path.
    externalURL: '',
    alerts: [
      {
        status: m.status,
        labels,
        annotations,
        startsAt: m.startsAt.toISOString(),
        endsAt: m.endsAt ? m.endsAt.toISOString() : NO_END,
        generatorURL: m.generatorPath,
        fingerprint: m.alertId.replace(/-/g, '').slice(0, 16),
      },
    ],
  };
  return JSON.stringify(body);
}

/** `sha256=<hex HMAC-SHA256 of the body>`: what X-RxSaga-Signature carries. */
export function signWebhookBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/**
 * Seconds to wait before attempt `attempts + 1` after `attempts` failed ones: 2, 4, 8, … up to
 * 5 minutes. The first retry comes 2 s after the first failure (DESIGN.md: within 10 s);
 * there is no last one: a delivery is retried until the receiver answers 2xx.
 */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 2 ** Math.max(1, attempts));
}

/** For logs and the Alerts page: webhook URLs often carry a token, so only the origin shows. */
export function webhookTarget(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname === '/' && !u.search ? u.origin : `${u.origin}/…`;
  } catch {
    return '(invalid URL)';
  }
}
