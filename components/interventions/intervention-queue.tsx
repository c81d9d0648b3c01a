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
import { BulkProgress, type Outcome } from './bulk-progress';
import styles from './interventions.module.css';

type Kind = 'retry' | 'cancel';
const CONCURRENCY = 4;

/**
 * The queue with one-by-one and bulk retry / cancel. A bulk action asks once for a reason,
 * then runs the same server action per saga (a few at a time) and reports each outcome: one
 * refusal (say, a saga that finished meanwhile) does not stop the rest.
 */
export function InterventionQueue({
  initial,
  canOperate,
}: {
  initial: Queue;
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
  const [confirm, setConfirm] = useState<{ kind: Kind; targets: InterventionView[] } | null>(null);
  const [outcomes, setOutcomes] = useState<Outcome[] | null>(null);

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

  async function run(
    kind: Kind,
    targets: InterventionView[],
    reason: string,
  ): Promise<string | null> {
    const list: Outcome[] = targets.map((s) => ({
      sagaId: s.sagaId,
      orderId: s.orderId,
      status: 'pending',
      message: null,
    }));
    setOutcomes(list);
    setConfirm(null);
    const update = (i: number, patch: Partial<Outcome>) =>
      setOutcomes((all) => all && all.map((o, j) => (j === i ? { ...o, ...patch } : o)));
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const i = next++;
        const saga = targets[i]!;
        update(i, { status: 'running' });
        try {
          const result =
            kind === 'retry'
              ? await retrySagaAction(saga.sagaId, reason)
              : await cancelSagaAction(saga.sagaId, reason);
          update(
            i,
            result.ok
              ? {
                  status: 'done',
                  message: kind === 'retry' ? 'Retry requested' : 'Cancel requested',
                }
              : { status: 'refused', message: result.message },
          );
        } catch {
          update(i, { status: 'refused', message: 'The request failed: try again' });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, targets.length) }, worker));
    setSelected(new Set());
    await queryClient.invalidateQueries({ queryKey: liveKeys.interventions });
    return null;
  }

  const noun = (n: number) => `${formatCount(n)} saga${n === 1 ? '' : 's'}`;
  return (
    <div className={styles.stack}>
      {outcomes ? <BulkProgress outcomes={outcomes} onDismiss={() => setOutcomes(null)} /> : null}
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
              onClick={() => setConfirm({ kind: 'retry', targets: chosen })}
            >
              Retry selected{chosen.length ? ` (${chosen.length})` : ''}
            </Button>
            <Button
              variant="danger"
              disabled={chosen.length === 0}
              onClick={() => setConfirm({ kind: 'cancel', targets: chosen })}
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
                        onClick={() => setConfirm({ kind: 'retry', targets: [s] })}
                        aria-label={`Retry ${s.orderId}`}
                      >
                        Retry
                      </Button>
                      <Button
                        size="small"
                        variant="ghost"
                        onClick={() => setConfirm({ kind: 'cancel', targets: [s] })}
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
          confirm
            ? `${confirm.kind === 'retry' ? 'Retry' : 'Cancel'} ${noun(confirm.targets.length)}?`
            : ''
        }
        description={
          confirm?.kind === 'cancel'
            ? 'Each saga is stopped and what it did is undone, newest first. Sagas already rolling back cannot be cancelled: retry those.'
            : 'Each saga re-runs the step or compensation it is stuck on, with fresh attempts.'
        }
        confirmLabel={
          confirm
            ? `${confirm.kind === 'retry' ? 'Retry' : 'Cancel'} ${noun(confirm.targets.length)}`
            : ''
        }
        confirmVariant={confirm?.kind === 'cancel' ? 'danger' : 'primary'}
        onConfirm={(reason) =>
          confirm ? run(confirm.kind, confirm.targets, reason) : Promise.resolve(null)
        }
        onClose={() => setConfirm(null)}
      />
    </div>
  );
}
