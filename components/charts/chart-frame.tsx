import type { ReactNode } from 'react';
import styles from './charts.module.css';

/** A chart with its title, a one-sentence summary for screen readers and a fixed height. */
export function ChartFrame({
  title,
  summary,
  children,
  height = 240,
}: {
  title: string;
  summary: string;
  children: ReactNode;
  height?: number;
}) {
  return (
    <figure className={styles.figure} aria-label={title}>
      <figcaption className={styles.caption}>
        <span className={styles.title}>{title}</span>
        <span className={styles.summary}>{summary}</span>
      </figcaption>
      {/* Hidden from assistive tech (the caption says it in words), so the charts render with
          accessibilityLayer={false}: nothing inside may take the focus. */}
      <div className={styles.plot} style={{ height }} aria-hidden="true">
        {children}
      </div>
    </figure>
  );
}
