'use client';

import { useQuery } from '@tanstack/react-query';
import type { Stats } from '@/db/queries/stats';
import { useLiveInterval } from '@/components/live/live-provider';
import { fetchJson, liveKeys } from '@/components/live/query-keys';
import { Table, Td, Th } from '@/components/ui/table';
import { formatCount, formatDuration, formatPercent, humanize } from '@/lib/web/format';
import styles from './drills.module.css';

/** What the drill does, live: the last hour's failures per task and the headline figures. */
export function DrillWatch({ initial }: { initial: Stats }) {
  const interval = useLiveInterval();
  const { data: stats } = useQuery({
    queryKey: liveKeys.stats('1h'),
    queryFn: () => fetchJson<Stats>('/api/stats?window=1h'),
    initialData: initial,
    refetchInterval: interval,
  });
  const compensations = new Map(stats.compensationsByTask.map((c) => [c.task, c.count]));
  return (
    <div className={styles.watch}>
      <dl className={styles.figures}>
        <div>
          <dt>Success rate</dt>
          <dd>{formatPercent(stats.successRate)}</dd>
        </div>
        <div>
          <dt>p95 duration</dt>
          <dd>{formatDuration(stats.p95DurationSeconds)}</dd>
        </div>
        <div>
          <dt>In flight</dt>
          <dd>{formatCount(stats.inFlight)}</dd>
        </div>
        <div>
          <dt>Needing intervention</dt>
          <dd>{formatCount(stats.needsIntervention)}</dd>
        </div>
      </dl>
      <Table caption="Failures per task in the last hour">
        <thead>
          <tr>
            <Th>Task</Th>
            <Th numeric>Business failures</Th>
            <Th numeric>Transient errors</Th>
            <Th numeric>Escalated</Th>
            <Th numeric>Ran (compensations)</Th>
          </tr>
        </thead>
        <tbody>
          {stats.failuresByTask.map((f) => (
            <tr key={f.task}>
              <Td>{humanize(f.task)}</Td>
              <Td numeric>{formatCount(f.business)}</Td>
              <Td numeric>{formatCount(f.transient)}</Td>
              <Td numeric>{formatCount(f.intervention)}</Td>
              <Td numeric>
                {compensations.has(f.task as never)
                  ? formatCount(compensations.get(f.task as never) ?? 0)
                  : '—'}
              </Td>
            </tr>
          ))}
        </tbody>
      </Table>
    </div>
  );
}
