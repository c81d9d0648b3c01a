'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import type { SagaPage } from '@/db/queries/sagas';
import { useLiveInterval } from '@/components/live/live-provider';
import { fetchJson, liveKeys } from '@/components/live/query-keys';
import { Notice } from '@/components/ui/badge';
import { LinkButton } from '@/components/ui/button';
import { EmptyRow, Table, Td, Th } from '@/components/ui/table';
import { formatAge, formatDuration, formatTimestamp, humanize } from '@/lib/web/format';
import styles from './sagas-table.module.css';
import { InterventionBadge, StateBadge } from './state-badge';
import { useNow } from './use-now';

/**
 * One page of sagas, refreshed when the event stream reports changes (new sagas appear on the
 * first page; state changes show on any page). `query` is the API query string of this page.
 */
export function SagasTable({
  initial,
  query,
  olderHref,
  newestHref,
}: {
  initial: SagaPage;
  query: string;
  olderHref: string | null;
  newestHref: string | null;
}) {
  const interval = useLiveInterval();
  const now = useNow();
  const { data, error, isFetching } = useQuery({
    queryKey: liveKeys.sagaList(query),
    queryFn: () => fetchJson<SagaPage>(`/api/sagas?${query}`),
    initialData: initial,
    refetchInterval: interval,
  });
  const nextHref =
    data.nextCursor && olderHref
      ? olderHref.replace('__CURSOR__', encodeURIComponent(data.nextCursor))
      : null;
  return (
    <div className={styles.wrap} aria-busy={isFetching}>
      {error ? <Notice tone="warning">Could not refresh: {error.message}</Notice> : null}
      <Table caption="Sagas, newest first">
        <thead>
          <tr>
            <Th>State</Th>
            <Th>Order and patient</Th>
            <Th>Current step</Th>
            <Th numeric>Age</Th>
            <Th numeric>Duration</Th>
          </tr>
        </thead>
        <tbody>
          {data.items.length === 0 ? (
            <EmptyRow colSpan={5}>No sagas match these filters.</EmptyRow>
          ) : (
            data.items.map((saga) => (
              <tr key={saga.sagaId} data-saga-id={saga.sagaId}>
                <Td>
                  <span className={styles.badges}>
                    <StateBadge state={saga.state} />
                    {saga.needsIntervention ? <InterventionBadge /> : null}
                  </span>
                </Td>
                <Td className={styles.order}>
                  <Link href={`/sagas/${saga.sagaId}`}>{saga.orderId}</Link>
                  <span className={styles.patient}>Patient {saga.patientId}</span>
                </Td>
                <Td>{saga.currentTask ? humanize(saga.currentTask) : '—'}</Td>
                <Td
                  numeric
                  suppressHydrationWarning
                  title={`started ${formatTimestamp(saga.startedAt)}`}
                >
                  {formatAge(saga.startedAt, now)}
                </Td>
                <Td numeric>{formatDuration(saga.durationSeconds)}</Td>
              </tr>
            ))
          )}
        </tbody>
      </Table>
      <nav className={styles.pager} aria-label="Pages">
        {newestHref ? (
          <LinkButton href={newestHref} size="small">
            ← Newest
          </LinkButton>
        ) : (
          <span />
        )}
        {nextHref ? (
          <LinkButton href={nextHref} size="small">
            Older →
          </LinkButton>
        ) : null}
      </nav>
    </div>
  );
}
