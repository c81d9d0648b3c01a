'use client';

import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { Button, type ButtonVariant } from './button';
import { Dialog, dialogStyles as styles } from './dialog';
import { Field, Textarea } from './field';

const MIN_REASON_LENGTH = 3;

/**
 * "Are you sure? Why?": operator actions are recorded with a reason, so the dialog asks for one
 * and will not confirm without it. The caller runs the action; an error it returns is shown
 * in the dialog, which stays open.
 */
export function ConfirmWithReason({
  open,
  title,
  description,
  confirmLabel,
  confirmVariant = 'primary',
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: ReactNode;
  description?: ReactNode;
  confirmLabel: string;
  confirmVariant?: ButtonVariant;
  /** Resolves to an error message to show, or null when done (the dialog then closes). */
  onConfirm: (reason: string) => Promise<string | null>;
  onClose: () => void;
}) {
  const titleId = useId();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  function close() {
    if (pending) return;
    setReason('');
    setError(null);
    onClose();
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = reason.trim();
    if (trimmed.length < MIN_REASON_LENGTH) {
      setError(`Give a reason (at least ${MIN_REASON_LENGTH} characters).`);
      return;
    }
    setPending(true);
    setError(null);
    try {
      const failure = await onConfirm(trimmed);
      if (failure) setError(failure);
      else {
        setReason('');
        onClose();
      }
    } finally {
      setPending(false);
    }
  }

  return (
    <Dialog open={open} onClose={close} labelledBy={titleId}>
      <form className={styles.dialogForm} onSubmit={submit} noValidate>
        <h2 id={titleId} className={styles.dialogTitle}>
          {title}
        </h2>
        {description ? <div className={styles.dialogBody}>{description}</div> : null}
        <Field
          label="Reason"
          hint="Recorded on the saga's timeline and in the audit log."
          errors={error ? [error] : undefined}
        >
          {(control) => (
            <Textarea
              {...control}
              name="reason"
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              maxLength={2000}
              required
              autoFocus
            />
          )}
        </Field>
        <div className={styles.dialogActions}>
          <Button onClick={close} disabled={pending}>
            Back
          </Button>
          <Button type="submit" variant={confirmVariant} disabled={pending} aria-busy={pending}>
            {pending ? 'Working…' : confirmLabel}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
