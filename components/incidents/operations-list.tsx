'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { cancelBulkOperationAction } from '@/server/actions/operations';
import type { BulkOperationPage, BulkOperationView } from '@/db/bulk-operations';
import { useLiveInterval } from '@/components/live/live-provider';
import { fetchJson, liveKeys } from '@/components/live/query-keys';
import { Notice } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { EmptyRow, Table, Td, Th } from '@/components/ui/table';
import { formatTimestamp } from '@/lib/web/format';
import styles from './incidents.module.css';
import { OperationBar } from './operation-progress';

/** The filter in words a person reads: `state=PENDING_SHIPMENT · 3 selected sagas`. */
function describeFilter(filter: BulkOperationView['filter']): string {
  return Object.entries(filter)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) =>
      k === 'sagaIds' && Array.isArray(v) ? `${v.length} selected sagas` : `${k}=${String(v)}`,
    )
    .join(' · ');
}

/** The history of bulk operations, newest first, with live progress bars while they run. */
export function OperationsList({
  initial,
  canOperate,
}: {
  initial: BulkOperationPage;
  canOperate: boolean;
}) {
  const interval = useLiveInterval();
  const queryClient = useQueryClient();
  const { data } = useQuery({
    queryKey: liveKeys.bulkOperations,
    queryFn: () => fetchJson<BulkOperationPage>('/api/bulk-operations?limit=50'),
    initialData: initial,
    refetchInterval: (q) =>
      q.state.data?.items.some((o) => o.status === 'running') ? 1_000 : interval,
  });
  const [error, setError] = useState<string | null>(null);

  async function cancel(operationId: string) {
    setError(null);
    const result = await cancelBulkOperationAction(operationId);
    if (!result.ok) setError(result.message);
    await queryClient.invalidateQueries({ queryKey: liveKeys.bulkOperations });
  }

  return (
    <div className={styles.stack}>
      {error ? <Notice tone="danger">{error}</Notice> : null}
      <Table caption="Bulk operations, newest first">
        <thead>
          <tr>
            <Th>Started</Th>
            <Th>Who</Th>
            <Th>Action</Th>
            <Th>Why</Th>
            <Th>Filter</Th>
            <Th>Progress</Th>
            {canOperate ? <Th>Stop</Th> : null}
          </tr>
        </thead>
        <tbody>
          {data.items.length === 0 ? (
            <EmptyRow colSpan={canOperate ? 7 : 6}>No bulk operation yet.</EmptyRow>
          ) : (
            data.items.map((op) => (
              <tr key={op.operationId} data-operation-id={op.operationId}>
                <Td className={styles.muted}>{formatTimestamp(op.createdAt)}</Td>
                <Td>{op.actor}</Td>
                <Td>{op.action}</Td>
                <Td>{op.reason}</Td>
                <Td className={styles.filter}>{describeFilter(op.filter)}</Td>
                <Td>
                  <OperationBar operation={op} />
                </Td>
                {canOperate ? (
                  <Td>
                    {op.status === 'running' ? (
                      <Button
                        size="small"
                        variant="ghost"
                        onClick={() => void cancel(op.operationId)}
                      >
                        Cancel
                      </Button>
                    ) : null}
                  </Td>
                ) : null}
              </tr>
            ))
          )}
        </tbody>
      </Table>
      {data.nextCursor ? (
        <p className={styles.muted}>Older operations: GET /api/bulk-operations?cursor=…</p>
      ) : null}
    </div>
  );
}
