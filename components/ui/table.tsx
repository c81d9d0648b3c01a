import type { HTMLAttributes, ReactNode, TdHTMLAttributes, ThHTMLAttributes } from 'react';
import styles from './surfaces.module.css';

/** A data table that scrolls sideways on narrow screens instead of squeezing its columns. */
export function Table({
  caption,
  children,
  className,
  ...rest
}: HTMLAttributes<HTMLTableElement> & { caption?: ReactNode }) {
  return (
    <div className={styles.tableWrap}>
      <table className={[styles.table, className].filter(Boolean).join(' ')} {...rest}>
        {caption ? <caption className="visually-hidden">{caption}</caption> : null}
        {children}
      </table>
    </div>
  );
}

export function Th({
  numeric,
  className,
  ...rest
}: ThHTMLAttributes<HTMLTableCellElement> & { numeric?: boolean }) {
  return (
    <th
      scope="col"
      className={[numeric ? styles.numeric : '', className].filter(Boolean).join(' ') || undefined}
      {...rest}
    />
  );
}

export function Td({
  numeric,
  className,
  ...rest
}: TdHTMLAttributes<HTMLTableCellElement> & { numeric?: boolean }) {
  return (
    <td
      className={[numeric ? styles.numeric : '', className].filter(Boolean).join(' ') || undefined}
      {...rest}
    />
  );
}

export function EmptyRow({ colSpan, children }: { colSpan: number; children: ReactNode }) {
  return (
    <tr>
      <td colSpan={colSpan} className={styles.empty}>
        {children}
      </td>
    </tr>
  );
}
