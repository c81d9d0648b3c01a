'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import type { Stats } from '@/db/queries/stats';
import {
  CompensationsChart,
  DurationChart,
  FailureFunnelChart,
  ThroughputChart,
} from '@/components/charts/stats-charts';
import { useLiveInterval } from '@/components/live/live-provider';
import { fetchJson, liveKeys } from '@/components/live/query-keys';
import { Notice } from '@/components/ui/badge';
import { Card } from '@/components/ui/card';
import { formatCount, formatDuration, formatPercent } from '@/lib/web/format';
import styles from './overview.module.css';

const WINDOW_LABEL: Record<string, string> = {
  '1h': 'the last hour',
  '24h': 'the last 24 hours',
  '7d': 'the last 7 days',
  all: 'all time',
};

/** KPI cards and charts for one window; the figures are /api/stats's, refreshed live. */
export function OverviewLive({ initial }: { initial: Stats }) {
  const interval = useLiveInterval();
  const { data: stats, error } = useQuery({
    queryKey: liveKeys.stats(initial.window),
    queryFn: () => fetchJson<Stats>(`/api/stats?window=${initial.window}`),
    initialData: initial,
    refetchInterval: interval,
  });
  const kpis: { label: string; value: string; note: string; href?: string; alert?: boolean }[] = [
    {
      label: 'Success rate',
      value: formatPercent(stats.successRate),
      note: 'completed ÷ finished',
    },
    {
      label: 'Average duration',
      value: formatDuration(stats.avgDurationSeconds),
      note: 'finished sagas',
    },
    {
      label: 'p95 duration',
      value: formatDuration(stats.p95DurationSeconds),
      note: `p50 ${formatDuration(stats.p50DurationSeconds)}`,
    },
    {
      label: 'Compensation frequency',
      value: formatPercent(stats.compensationFrequency),
      note: 'finished sagas that rolled back',
    },
    {
      label: 'In flight',
      value: formatCount(stats.inFlight),
      note: `of ${formatCount(stats.total)} started`,
      href: '/sagas',
    },
    {
      label: 'Needing intervention',
      value: formatCount(stats.needsIntervention),
      note: stats.needsIntervention ? 'waiting for an operator' : 'nothing waiting',
      href: '/interventions',
      alert: stats.needsIntervention > 0,
    },
  ];
  return (
    <div className={styles.stack}>
      {error ? (
        <Notice tone="warning">Could not refresh the figures: {error.message}</Notice>
      ) : null}
      <section aria-label={`Key figures for ${WINDOW_LABEL[stats.window] ?? stats.window}`}>
        <ul className={styles.kpis}>
          {kpis.map((k) => (
            <li key={k.label} className={`${styles.kpi} ${k.alert ? styles.alert : ''}`}>
              <span className={styles.kpiLabel}>{k.label}</span>
              <span className={styles.kpiValue} data-kpi={k.label}>
                {k.value}
              </span>
              {k.href ? (
                <Link href={k.href} className={styles.kpiNote}>
                  {k.note} →
                </Link>
              ) : (
                <span className={styles.kpiNote}>{k.note}</span>
              )}
            </li>
          ))}
        </ul>
      </section>
      <div className={styles.charts}>
        <Card>
          <ThroughputChart stats={stats} />
        </Card>
        <Card>
          <DurationChart stats={stats} />
        </Card>
        <Card>
          <CompensationsChart stats={stats} />
        </Card>
        <Card>
          <FailureFunnelChart stats={stats} />
        </Card>
      </div>
    </div>
  );
}
