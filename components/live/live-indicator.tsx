'use client';

import { useLiveStatus } from './live-provider';
import styles from './live-indicator.module.css';

const LABEL = {
  live: 'Live',
  connecting: 'Connecting…',
  offline: 'Reconnecting (polling)',
} as const;

export function LiveIndicator() {
  const status = useLiveStatus();
  return (
    <span
      className={`${styles.indicator} ${styles[status]}`}
      role="status"
      aria-live="polite"
      data-live-status={status}
    >
      {LABEL[status]}
    </span>
  );
}
