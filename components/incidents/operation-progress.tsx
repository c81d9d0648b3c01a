'use client';

import { useQuery } from '@tanstack/react-query';
import type { BulkOperationView } from '@/db/bulk-operations';
import { fetchJson, liveKeys } from '@/components/live/query-keys';
import { Badge, type Tone } from '@/components/ui/badge';
import { formatCount } from '@/lib/web/format';
import styles from './incidents.module.css';

const STATUS_TONE: Record<BulkOperationView['status'], Tone> = {
  running: 'info',
  done: 'success',
  cancelled: 'neutral',
};

const operationSummary = (op: BulkOperationView) =>
  `${formatCount(op.succeeded)} succeeded, ${formatCount(op.skipped)} skipped, ${formatCount(op.failed)} failed of ${formatCount(op.total)}`;

/** A progress bar and the counts of one operation. */
export function OperationBar({ operation: op }: { operation: BulkOperationView }) {
  const processed = op.succeeded + op.skipped + op.failed;
  return (
    <div data-operation-status={op.status}>
      <progress
        className={styles.progress}
        max={Math.max(op.total, 1)}
        value={op.total === 0 ? 1 : processed}
        aria-label={`Progress of the ${op.action}`}
      />
      <span className={styles.counts}>
        <Badge tone={STATUS_TONE[op.status]}>{op.status}</Badge> {operationSummary(op)}
      </span>
    </div>
  );
}

/** Polls one operation (every second while it runs) and shows its bar. */
export function OperationProgress({ operationId }: { operationId: string }) {
  const { data } = useQuery({
    queryKey: liveKeys.bulkOperation(operationId),
    queryFn: () => fetchJson<BulkOperationView>(`/api/bulk-operations/${operationId}`),
    refetchInterval: (q) => (q.state.data?.status === 'running' || !q.state.data ? 1_000 : false),
  });
  return data ? <OperationBar operation={data} /> : <span className={styles.muted}>Starting…</span>;
}
