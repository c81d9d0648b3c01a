'use client';

import '@/components/live/zod-without-eval';
import { useQuery } from '@tanstack/react-query';
import type { SagaDetail } from '@/db/queries/sagas';
import { useLiveInterval } from '@/components/live/live-provider';
import { fetchJson, liveKeys } from '@/components/live/query-keys';
import { Notice } from '@/components/ui/badge';
import { Card } from '@/components/ui/card';
import { PageHeader } from '@/components/ui/page-header';
import { isTerminal } from '@/lib/saga/model';
import { formatDuration, formatTimestamp, humanize } from '@/lib/web/format';
import { HeldNotice } from './held-notice';
import { SagaActions } from './saga-actions';
import { SagaDiagram } from './saga-diagram';
import styles from './saga-detail.module.css';
import { SagaTimeline } from './saga-timeline';
import { allowedActions, diagramModel, foldSaga } from './saga-view-model';
import { InterventionBadge, StateBadge } from './state-badge';

/** The saga page's live part: refetched when the event stream says this saga changed. */
export function SagaDetailLive({
  initial,
  canOperate,
}: {
  initial: SagaDetail;
  canOperate: boolean;
}) {
  const interval = useLiveInterval();
  const { data: saga, error } = useQuery({
    queryKey: liveKeys.saga(initial.sagaId),
    queryFn: () => fetchJson<SagaDetail>(`/api/sagas/${initial.sagaId}`),
    initialData: initial,
    refetchInterval: (q) =>
      q.state.data && isTerminal(q.state.data.state) && !q.state.data.needsIntervention
        ? false
        : interval,
  });
  const folded = foldSaga(saga.events);
  const cancelled = saga.events.some((e) => e.type === 'order_fulfillment_saga.cancel_requested');
  const allowed = canOperate ? allowedActions(folded) : { retry: false, cancel: false };

  return (
    <>
      <PageHeader
        title={<span className={styles.title}>Order {saga.orderId}</span>}
        description={
          <span className={styles.meta}>
            <span>
              Saga <code>{saga.sagaId}</code>
            </span>
            <span>Patient {saga.patientId}</span>
          </span>
        }
        actions={<SagaActions sagaId={saga.sagaId} orderId={saga.orderId} allowed={allowed} />}
      />
      <div className={styles.status} aria-live="polite">
        <StateBadge state={saga.state} />
        {saga.needsIntervention ? <InterventionBadge /> : null}
        <span>Started {formatTimestamp(saga.startedAt)}</span>
        <span>
          {saga.completedAt ? `Took ${formatDuration(saga.durationSeconds)}` : 'In flight'}
        </span>
        {saga.currentTask ? <span>Waiting for: {humanize(saga.currentTask)}</span> : null}
      </div>
      {error ? (
        <Notice tone="warning" role="status">
          Could not refresh: {error.message}. Showing the last known state.
        </Notice>
      ) : null}
      {saga.pausedAt && saga.currentTask ? (
        <HeldNotice task={saga.currentTask} pausedAt={saga.pausedAt} />
      ) : null}
      {saga.needsIntervention && saga.interventionReason ? (
        <Notice tone="danger">
          <strong>Needs intervention:</strong> {saga.interventionReason}
        </Notice>
      ) : null}
      <div className={styles.stack}>
        <Card title="State machine">
          {folded ? (
            <SagaDiagram model={diagramModel(folded, cancelled)} />
          ) : (
            <p>The timeline could not be drawn.</p>
          )}
          {saga.failureReason ? (
            <p className={styles.failure}>
              <strong>Why it stopped:</strong> {saga.failureReason}
            </p>
          ) : null}
        </Card>
        <Card title={`Timeline (${saga.events.length} events)`}>
          <SagaTimeline events={saga.events} startedAt={saga.startedAt} />
        </Card>
      </div>
    </>
  );
}
