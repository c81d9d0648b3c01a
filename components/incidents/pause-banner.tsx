'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import type { PauseView } from '@/db/queries/task-controls';
import { useLiveInterval } from '@/components/live/live-provider';
import { fetchJson, liveKeys } from '@/components/live/query-keys';
import { TASK_LABEL } from '@/components/saga/saga-labels';
import { formatTimestamp } from '@/lib/web/format';
import styles from './incidents.module.css';

/** On every page while any task is paused: what, by whom, since when and why. */
export function PauseBanner() {
  const interval = useLiveInterval();
  const { data } = useQuery({
    queryKey: liveKeys.pauses,
    queryFn: () => fetchJson<{ items: PauseView[] }>('/api/pauses'),
    refetchInterval: Math.min(interval, 5_000),
  });
  const pauses = data?.items ?? [];
  if (pauses.length === 0) return null;
  return (
    <div className={styles.banner} role="status" aria-label="Paused tasks" data-pause-banner>
      <strong>Paused:</strong>
      <ul>
        {pauses.map((p) => (
          <li key={p.task}>
            {TASK_LABEL[p.task]} by {p.pausedBy} since {formatTimestamp(p.pausedAt)}: “{p.reason}”
          </li>
        ))}
      </ul>
      <Link href="/controls">Controls</Link>
    </div>
  );
}
