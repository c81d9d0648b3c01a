'use client';

import Link from 'next/link';
import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import styles from './interventions.module.css';

export interface Outcome {
  sagaId: string;
  orderId: string;
  status: 'pending' | 'running' | 'done' | 'refused';
  message: string | null;
}

const LOOK: Record<Outcome['status'], { tone: Tone; label: string }> = {
  pending: { tone: 'neutral', label: 'Queued' },
  running: { tone: 'info', label: 'Working…' },
  done: { tone: 'success', label: 'Done' },
  refused: { tone: 'danger', label: 'Refused' },
};

/** Progress and the outcome of each saga of a bulk action; stays until dismissed. */
export function BulkProgress({
  outcomes,
  onDismiss,
}: {
  outcomes: Outcome[];
  onDismiss: () => void;
}) {
  const finished = outcomes.filter((o) => o.status === 'done' || o.status === 'refused').length;
  const refused = outcomes.filter((o) => o.status === 'refused').length;
  const complete = finished === outcomes.length;
  return (
    <Card
      title={
        complete
          ? `Finished: ${finished - refused} done, ${refused} refused`
          : `Working: ${finished} of ${outcomes.length}`
      }
      actions={
        complete ? (
          <Button size="small" variant="ghost" onClick={onDismiss}>
            Dismiss
          </Button>
        ) : null
      }
      aria-live="polite"
    >
      <progress
        className={styles.progress}
        max={outcomes.length}
        value={finished}
        aria-label="Progress"
      />
      <ul className={styles.outcomes}>
        {outcomes.map((o) => (
          <li key={o.sagaId} data-outcome={o.status}>
            <Badge tone={LOOK[o.status].tone}>{LOOK[o.status].label}</Badge>
            <Link href={`/sagas/${o.sagaId}`}>{o.orderId}</Link>
            {o.message ? <span className={styles.outcomeMessage}>{o.message}</span> : null}
          </li>
        ))}
      </ul>
    </Card>
  );
}
