import type { SagaEventView } from '@/db/queries/sagas';
import { formatOffset, formatTimestamp } from '@/lib/web/format';
import { summarizeEvent } from './event-summary';
import { toStoredEvents } from './saga-view-model';
import styles from './saga-timeline.module.css';

/** Every event of the saga, oldest first, with its offset from the start; payloads on demand. */
export function SagaTimeline({
  events,
  startedAt,
}: {
  events: readonly SagaEventView[];
  startedAt: string;
}) {
  const stored = toStoredEvents(events);
  return (
    <ol className={styles.timeline} aria-label="Timeline">
      {stored.map((event) => {
        const s = summarizeEvent(event);
        const at = event.recordedAt.toISOString();
        return (
          <li key={event.position} className={styles.item} data-event-type={event.type}>
            <span className={styles.offset} title={formatTimestamp(at)}>
              {formatOffset(startedAt, at)}
            </span>
            <span className={styles.rail} aria-hidden="true">
              <span className={`${styles.dot} ${styles[s.tone] ?? ''}`} />
            </span>
            <div className={styles.body}>
              <div className={styles.head}>
                <span className={styles.title}>{s.title}</span>
                <span className={styles.type}>{event.type}</span>
              </div>
              {s.detail ? <p className={styles.detail}>{s.detail}</p> : null}
              {s.reason ? (
                <p className={styles.operator}>
                  <strong>{s.actor ?? 'someone'}</strong>: “{s.reason}”
                </p>
              ) : null}
              <details className={styles.payload}>
                <summary>Payload</summary>
                <pre>
                  {JSON.stringify({ payload: event.payload, metadata: event.metadata }, null, 2)}
                </pre>
              </details>
            </div>
          </li>
        );
      })}
    </ol>
  );
}
