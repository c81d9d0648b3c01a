/** What the dashboard reads from /api/alerts and /api/alerts/deliveries (shapes of db/alerts.ts). */
export interface AlertItem {
  alertId: string;
  rule: string;
  status: 'firing' | 'resolved';
  summary: string;
  startedAt: string;
  resolvedAt: string | null;
}

export const alertKeys = {
  alerts: ['alerts'] as const,
  /** The banner's: firing ones only (its first paint comes from the layout). */
  firing: ['alerts', 'firing'] as const,
  deliveries: ['alerts', 'deliveries'] as const,
};

/** Alerts change when the evaluator runs, not on saga events: polled, at most this often. */
export const ALERT_POLL_MS = 5000;
