'use client';

import { useEffect, useRef, type ReactNode } from 'react';
import styles from './overlays.module.css';

/**
 * A modal built on the native <dialog>: showModal() gives focus containment, Escape to close
 * and an inert page behind it, with no focus-trap code of our own.
 */
export function Dialog({
  open,
  onClose,
  labelledBy,
  children,
}: {
  open: boolean;
  onClose: () => void;
  labelledBy: string;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className={styles.dialog}
      aria-labelledby={labelledBy}
      onClose={onClose}
      onCancel={onClose}
    >
      {open ? children : null}
    </dialog>
  );
}

export const dialogStyles = styles;
