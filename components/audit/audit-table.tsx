import Link from 'next/link';
import type { AuditView } from '@/db/queries/audit';
import { Badge, type Tone } from '@/components/ui/badge';
import { EmptyRow, Table, Td, Th } from '@/components/ui/table';
import { formatTimestamp } from '@/lib/web/format';
import styles from './audit.module.css';

const ACTION_TONE: Record<string, Tone> = {
  'saga.retry': 'info',
  'saga.cancel': 'warning',
  'inventory.set_on_hand': 'neutral',
  'faults.set': 'warning',
  'session.sign_in': 'success',
  'session.sign_in_failed': 'danger',
  'session.sign_in_locked': 'danger',
  'session.sign_out': 'neutral',
};

const isUuid = (v: string) =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);

/**
 * Who did what and why; the before/after snapshots open on demand. `people` maps usernames to
 * display names: the person is shown by name with the username (what the record holds) beside it.
 */
export function AuditTable({
  items,
  people = new Map(),
}: {
  items: AuditView[];
  people?: ReadonlyMap<string, string>;
}) {
  return (
    <Table caption="Audit log, newest first">
      <thead>
        <tr>
          <Th>When</Th>
          <Th>Who</Th>
          <Th>Action</Th>
          <Th>Target</Th>
          <Th>Reason</Th>
          <Th>Change</Th>
        </tr>
      </thead>
      <tbody>
        {items.length === 0 ? (
          <EmptyRow colSpan={6}>No audit entries match.</EmptyRow>
        ) : (
          items.map((e) => (
            <tr key={e.id} data-action={e.action}>
              <Td className={styles.when}>{formatTimestamp(e.at)}</Td>
              <Td>
                {people.has(e.actor) ? (
                  <>
                    <span className={styles.actor}>{people.get(e.actor)}</span>
                    <span className={styles.username}>{e.actor}</span>
                  </>
                ) : (
                  <span className={styles.actor}>{e.actor}</span>
                )}
                <span className={styles.role}>{e.role}</span>
              </Td>
              <Td>
                <Badge tone={ACTION_TONE[e.action] ?? 'neutral'}>{e.action}</Badge>
              </Td>
              <Td className={styles.target}>
                {e.target && isUuid(e.target) ? (
                  <Link href={`/sagas/${e.target}`}>{e.target.slice(0, 8)}…</Link>
                ) : (
                  (e.target ?? '—')
                )}
              </Td>
              <Td className={styles.reason}>{e.reason ?? '—'}</Td>
              <Td>
                {e.before !== null || e.after !== null ? (
                  <details className={styles.change}>
                    <summary>Before / after</summary>
                    <pre>{JSON.stringify({ before: e.before, after: e.after }, null, 2)}</pre>
                  </details>
                ) : (
                  '—'
                )}
              </Td>
            </tr>
          ))
        )}
      </tbody>
    </Table>
  );
}
