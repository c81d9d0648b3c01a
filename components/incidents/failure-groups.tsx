'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useLiveInterval } from '@/components/live/live-provider';
import { fetchJson, liveKeys } from '@/components/live/query-keys';
import { TASK_LABEL } from '@/components/saga/saga-labels';
import { Button } from '@/components/ui/button';
import { EmptyRow, Table, Td, Th } from '@/components/ui/table';
import type { FailureGroup } from '@/lib/incidents/failure-groups';
import { isTask } from '@/lib/saga/model';
import { formatCount, formatTimestamp } from '@/lib/web/format';
import type { BulkRequest } from './bulk-confirm';
import styles from './incidents.module.css';

const KIND_LABEL: Record<FailureGroup['kind'], string> = {
  'retries-exhausted': 'Retries ran out',
  stalled: 'Stalled',
  failed: 'Failed',
  other: 'Other',
};

const taskLabel = (task: string | null) =>
  task && isTask(task) ? TASK_LABEL[task] : (task ?? '—');

/** The flagged sagas grouped by cause, largest first, each with "retry all" and "cancel all". */
export function FailureGroups({
  initial,
  canOperate,
  onAct,
}: {
  initial: FailureGroup[];
  canOperate: boolean;
  onAct: (request: BulkRequest) => void;
}) {
  const interval = useLiveInterval();
  const { data } = useQuery({
    queryKey: liveKeys.failureGroups,
    queryFn: async () => (await fetchJson<{ items: FailureGroup[] }>('/api/failure-groups')).items,
    initialData: initial,
    refetchInterval: interval,
  });
  const what = (g: FailureGroup) =>
    `the ${formatCount(g.count)} saga${g.count === 1 ? '' : 's'} of “${g.error || KIND_LABEL[g.kind]}” at ${taskLabel(g.task)}`;
  return (
    <Table caption="Failure groups: one cause, one row">
      <thead>
        <tr>
          <Th>Stuck at</Th>
          <Th>Cause</Th>
          <Th numeric>Sagas</Th>
          <Th>First / last seen</Th>
          <Th>Sample</Th>
          {canOperate ? <Th>Actions</Th> : null}
        </tr>
      </thead>
      <tbody>
        {data.length === 0 ? (
          <EmptyRow colSpan={canOperate ? 6 : 5}>No failures to group.</EmptyRow>
        ) : (
          data.map((g) => (
            <tr key={g.groupId} data-group-id={g.groupId}>
              <Td>{taskLabel(g.task)}</Td>
              <Td>
                <strong>{KIND_LABEL[g.kind]}</strong>
                <div className={styles.error}>{g.error || '—'}</div>
              </Td>
              <Td numeric>{formatCount(g.count)}</Td>
              <Td className={styles.muted}>
                {g.firstSeenAt ? formatTimestamp(g.firstSeenAt) : '—'}
                <br />
                {g.lastSeenAt ? formatTimestamp(g.lastSeenAt) : '—'}
              </Td>
              <Td>
                <Link href={`/sagas/${g.sample.sagaId}`}>{g.sample.orderId}</Link>
              </Td>
              {canOperate ? (
                <Td>
                  <span className={styles.actions}>
                    <Button
                      size="small"
                      onClick={() =>
                        onAct({ action: 'retry', filter: { groupId: g.groupId }, what: what(g) })
                      }
                    >
                      Retry all
                    </Button>
                    <Button
                      size="small"
                      variant="danger"
                      onClick={() =>
                        onAct({ action: 'cancel', filter: { groupId: g.groupId }, what: what(g) })
                      }
                    >
                      Cancel all
                    </Button>
                  </span>
                </Td>
              ) : null}
            </tr>
          ))
        )}
      </tbody>
    </Table>
  );
}
