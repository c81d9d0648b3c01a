import styles from './surfaces.module.css';

/** A placeholder block while data loads; hidden from assistive technology (the region says "loading"). */
export function Skeleton({ width = '100%', height = '1rem' }: { width?: string; height?: string }) {
  return <span aria-hidden="true" className={styles.skeleton} style={{ width, height }} />;
}
