import type { ReactNode } from 'react';
import styles from './surfaces.module.css';

export type Tone = 'neutral' | 'info' | 'success' | 'warning' | 'danger';

/** A small label with a colour dot; the text always carries the meaning, the colour only helps. */
export function Badge({
  tone = 'neutral',
  children,
  title,
}: {
  tone?: Tone;
  children: ReactNode;
  title?: string;
}) {
  return (
    <span className={`${styles.badge} ${styles[tone]}`} title={title}>
      {children}
    </span>
  );
}

export function Notice({
  tone = 'info',
  children,
  role,
}: {
  tone?: Tone;
  children: ReactNode;
  role?: 'status' | 'alert';
}) {
  return (
    <div className={`${styles.notice} ${styles[tone]}`} role={role}>
      {children}
    </div>
  );
}
