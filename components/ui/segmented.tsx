import Link from 'next/link';
import styles from './overlays.module.css';

/** A row of links where one is current: window selectors and tab-like navigation kept in the URL. */
export function SegmentedLinks({
  label,
  items,
}: {
  label: string;
  items: { href: string; label: string; current: boolean }[];
}) {
  return (
    <nav aria-label={label} className={styles.segmented}>
      {items.map((item) => (
        <Link
          key={item.href}
          href={item.href}
          className={styles.segment}
          aria-current={item.current ? 'true' : undefined}
          scroll={false}
        >
          {item.label}
        </Link>
      ))}
    </nav>
  );
}
