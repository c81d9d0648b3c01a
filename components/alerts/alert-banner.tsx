'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { fetchJson } from '@/components/live/query-keys';
import { ALERT_RULE_INFO, isAlertRule } from '@/lib/alerts/rules';
import { ALERT_POLL_MS, alertKeys, type AlertItem } from './alert-queries';
import styles from './alerts.module.css';

/**
 * Shown on every dashboard page while an alert fires: what holds, and a link to where it can be
 * dealt with. Polls /api/alerts; the first paint uses what the layout read on the server.
 */
export function AlertBanner({ initial }: { initial: AlertItem[] }) {
  const { data } = useQuery({
    queryKey: alertKeys.firing,
    queryFn: () =>
      fetchJson<{ items: AlertItem[] }>('/api/alerts').then((r) =>
        r.items.filter((a) => a.status === 'firing'),
      ),
    initialData: initial,
    refetchInterval: ALERT_POLL_MS,
  });
  const firing = data;
  if (firing.length === 0) return null;
  return (
    <section className={styles.banner} aria-label="Firing alerts" role="status">
      <ul className={styles.bannerList}>
        {firing.map((a) => {
          const info = isAlertRule(a.rule) ? ALERT_RULE_INFO[a.rule] : null;
          return (
            <li
              key={a.alertId}
              data-alert-rule={a.rule}
              className={info?.severity === 'critical' ? styles.critical : styles.warningItem}
            >
              <strong>{info?.title ?? a.rule}:</strong> {a.summary}.{' '}
              {info ? <Link href={info.href}>Open the {info.cause}</Link> : null}
            </li>
          );
        })}
      </ul>
      <Link href="/alerts" className={styles.bannerMore}>
        All alerts
      </Link>
    </section>
  );
}
