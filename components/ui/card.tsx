import type { HTMLAttributes, ReactNode } from 'react';
import styles from './surfaces.module.css';

interface CardProps extends Omit<HTMLAttributes<HTMLElement>, 'title'> {
  title?: ReactNode;
  /** Controls at the right of the title (a window selector, a link). */
  actions?: ReactNode;
  /** Heading level of the title, so each page keeps a sound outline. */
  headingLevel?: 2 | 3;
}

export function Card({
  title,
  actions,
  headingLevel = 2,
  className,
  children,
  ...rest
}: CardProps) {
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <section className={[styles.card, className].filter(Boolean).join(' ')} {...rest}>
      {title || actions ? (
        <div className={styles.cardHeader}>
          {title ? <Heading className={styles.cardTitle}>{title}</Heading> : <span />}
          {actions}
        </div>
      ) : null}
      <div className={styles.cardBody}>{children}</div>
    </section>
  );
}
