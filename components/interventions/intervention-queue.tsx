'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { cancelSagaAction, retrySagaAction } from '@/server/actions/sagas';
import type { InterventionQueue as Queue, InterventionView } from '@/db/queries/interventions';
import { useLiveInterval } from '@/components/live/live-provider';
import { fetchJson, liveKeys } from '@/components/live/query-keys';
import { StateBadge } from '@/components/saga/state-badge';
import { useNow } from '@/components/saga/use-now';
import { Notice } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { ConfirmWithReason } from '@/components/ui/confirm-with-reason';
import { EmptyRow, Table, Td, Th } from '@/components/ui/table';
import { formatAge, formatCount, formatTimestamp } from '@/lib/web/format';
import { BulkConfirm, type BulkRequest } from '@/components/incidents/bulk-confirm';
import { FailureGroups } from '@/components/incidents/failure-groups';
import { OperationProgress } from '@/components/incidents/operation-progress';
import { Card } from '@/components/ui/card';
import type { FailureGroup } from '@/lib/incidents/failure-groups';
import styles from './interventions.module.css';

type Kind = 'retry' | 'cancel';

/**
 * The queue: failure groups first (retry or cancel a whole cause), then the single sagas, one by
 * one or a selection. Groups and selections are bulk operations (docs/incidents.md): a dry run
 * counts them, the reason is asked once, and the operation runs in the background with a
 * progress bar here and on the Operations page.
 */
export function InterventionQueue({
  initial,
  initialGroups,
  canOperate,
}: {
  initial: Queue;
  initialGroups: FailureGroup[];
  canOperate: boolean;
}) {
  const interval = useLiveInterval();
  const now = useNow();
  const queryClient = useQueryClient();
  const { data } = useQuery({
    queryKey: liveKeys.interventions,
    queryFn: () => fetchJson<Queue>('/api/interventions'),
    initialData: initial,
    refetchInterval: interval,
  });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirm, setConfirm] = useState<{ kind: Kind; saga: InterventionView } | null>(null);
  const [bulk, setBulk] = useState<BulkRequest | null>(null);
  const [operations, setOperations] = useState<string[]>([]);

  const visible = new Set(data.items.map((s) => s.sagaId));
  const chosen = data.items.filter((s) => selected.has(s.sagaId));
  const allChosen = data.items.length > 0 && chosen.length === data.items.length;

  function toggle(id: string) {
    setSelected((all) => {
      const next = new Set([...all].filter((x) => visible.has(x)));
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  async function runSingle(
    kind: Kind,
    saga: InterventionView,
    reason: string,
  ): Promise<string | null> {
    const result =
      kind === 'retry'
        ? await retrySagaAction(saga.sagaId, reason)
        : await cancelSagaAction(saga.sagaId, reason);
    if (!result.ok) return result.message;
    setConfirm(null);
    await queryClient.invalidateQueries({ queryKey: liveKeys.interventions });
    return null;
  }

  function started(operationId: string) {
    setBulk(null);
    setSelected(new Set());
    setOperations((all) => [operationId, ...all]);
  }

  const noun = (n: number) => `${formatCount(n)} saga${n === 1 ? '' : 's'}`;
  const selection = (action: Kind): BulkRequest => ({
    action,
    filter: { sagaIds: chosen.map((s) => s.sagaId) },
    what: `${formatCount(chosen.length)} selected saga${chosen.length === 1 ? '' : 's'}`,
  });
  return (
    <div className={styles.stack}>
      {operations.length > 0 ? (
        <Card
          title="Operations started here"
          actions={<Link href="/operations">All operations</Link>}
          aria-live="polite"
        >
          {operations.map((id) => (
            <OperationProgress key={id} operationId={id} />
          ))}
        </Card>
      ) : null}
      <FailureGroups initial={initialGroups} canOperate={canOperate} onAct={setBulk} />
      <div className={styles.toolbar}>
        <p className={styles.count} aria-live="polite">
          {data.total === 0
            ? 'Nothing needs intervention.'
            : `${noun(data.total)} waiting${data.total > data.items.length ? ` (oldest ${data.items.length} shown)` : ''}`}
          {chosen.length ? ` · ${formatCount(chosen.length)} selected` : ''}
        </p>
        {canOperate ? (
          <div className={styles.bulk}>
            <Button
              variant="primary"
              disabled={chosen.length === 0}
              onClick={() => setBulk(selection('retry'))}
            >
              Retry selected{chosen.length ? ` (${chosen.length})` : ''}
            </Button>
            <Button
              variant="danger"
              disabled={chosen.length === 0}
              onClick={() => setBulk(selection('cancel'))}
            >
              Cancel selected{chosen.length ? ` (${chosen.length})` : ''}
            </Button>
          </div>
        ) : null}
      </div>
      {!canOperate && data.total > 0 ? (
        <Notice tone="info">
          You are signed in as a viewer: an operator can retry or cancel these.
        </Notice>
      ) : null}
      <Table caption="Sagas needing intervention, oldest first">
        <thead>
          <tr>
            {canOperate ? (
              <Th className={styles.check}>
                <input
                  type="checkbox"
                  aria-label="Select all"
                  checked={allChosen}
                  onChange={() =>
                    setSelected(allChosen ? new Set() : new Set(data.items.map((s) => s.sagaId)))
                  }
                />
              </Th>
            ) : null}
            <Th>Order</Th>
            <Th>State</Th>
            <Th>Why</Th>
            <Th numeric>Waiting</Th>
            {canOperate ? <Th>Actions</Th> : null}
          </tr>
        </thead>
        <tbody>
          {data.items.length === 0 ? (
            <EmptyRow colSpan={canOperate ? 6 : 4}>Nothing needs intervention. Good.</EmptyRow>
          ) : (
            data.items.map((s) => (
              <tr key={s.sagaId} data-saga-id={s.sagaId}>
                {canOperate ? (
                  <Td className={styles.check}>
                    <input
                      type="checkbox"
                      aria-label={`Select ${s.orderId}`}
                      checked={selected.has(s.sagaId)}
                      onChange={() => toggle(s.sagaId)}
                    />
                  </Td>
                ) : null}
                <Td className={styles.order}>
                  <Link href={`/sagas/${s.sagaId}`}>{s.orderId}</Link>
                  <span className={styles.patient}>Patient {s.patientId}</span>
                </Td>
                <Td>
                  <StateBadge state={s.state} />
                </Td>
                <Td className={styles.reason}>{s.interventionReason ?? '—'}</Td>
                <Td
                  numeric
                  suppressHydrationWarning
                  title={
                    s.interventionSince
                      ? `since ${formatTimestamp(s.interventionSince)}`
                      : undefined
                  }
                >
                  {s.interventionSince ? formatAge(s.interventionSince, now) : '—'}
                </Td>
                {canOperate ? (
                  <Td>
                    <span className={styles.rowActions}>
                      <Button
                        size="small"
                        onClick={() => setConfirm({ kind: 'retry', saga: s })}
                        aria-label={`Retry ${s.orderId}`}
                      >
                        Retry
                      </Button>
                      <Button
                        size="small"
                        variant="ghost"
                        onClick={() => setConfirm({ kind: 'cancel', saga: s })}
                        aria-label={`Cancel ${s.orderId}`}
                      >
                        Cancel
                      </Button>
                    </span>
                  </Td>
                ) : null}
              </tr>
            ))
          )}
        </tbody>
      </Table>
      <ConfirmWithReason
        open={confirm !== null}
        title={
          confirm ? `${confirm.kind === 'retry' ? 'Retry' : 'Cancel'} ${confirm.saga.orderId}?` : ''
        }
        description={
          confirm?.kind === 'cancel'
            ? 'The saga is stopped and what it did is undone, newest first.'
            : 'The saga re-runs the step or compensation it is stuck on, with fresh attempts.'
        }
        confirmLabel={confirm?.kind === 'retry' ? 'Retry' : 'Cancel the saga'}
        confirmVariant={confirm?.kind === 'cancel' ? 'danger' : 'primary'}
        onConfirm={(reason) =>
          confirm ? runSingle(confirm.kind, confirm.saga, reason) : Promise.resolve(null)
        }
        onClose={() => setConfirm(null)}
      />
      <BulkConfirm request={bulk} onStarted={started} onClose={() => setBulk(null)} />
    </div>
  );
}
