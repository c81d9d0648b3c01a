'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { pauseTaskAction, resumeTaskAction } from '@/server/actions/controls';
import type { TaskControlView } from '@/db/queries/task-controls';
import { useLiveInterval } from '@/components/live/live-provider';
import { fetchJson, liveKeys } from '@/components/live/query-keys';
import { TASK_LABEL } from '@/components/saga/saga-labels';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { ConfirmWithReason } from '@/components/ui/confirm-with-reason';
import { Table, Td, Th } from '@/components/ui/table';
import type { Task } from '@/lib/saga/model';
import { formatCount, formatTimestamp } from '@/lib/web/format';
import styles from './incidents.module.css';

/** Every task's state, with pause and resume (a reason each) for operators. */
export function TaskControls({
  initial,
  canOperate,
}: {
  initial: TaskControlView[];
  canOperate: boolean;
}) {
  const interval = useLiveInterval();
  const queryClient = useQueryClient();
  const { data } = useQuery({
    queryKey: liveKeys.tasks,
    queryFn: async () => (await fetchJson<{ items: TaskControlView[] }>('/api/tasks')).items,
    initialData: initial,
    refetchInterval: Math.min(interval, 5_000),
  });
  const [confirm, setConfirm] = useState<{ task: Task; pause: boolean } | null>(null);

  async function act(reason: string): Promise<string | null> {
    if (!confirm) return null;
    const result = confirm.pause
      ? await pauseTaskAction(confirm.task, reason)
      : await resumeTaskAction(confirm.task, reason);
    if (!result.ok) return result.message;
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: liveKeys.tasks }),
      queryClient.invalidateQueries({ queryKey: liveKeys.pauses }),
    ]);
    return null;
  }

  const label = confirm ? TASK_LABEL[confirm.task] : '';
  return (
    <>
      <Table caption="Tasks">
        <thead>
          <tr>
            <Th>Task</Th>
            <Th>State</Th>
            <Th numeric>Sagas waiting</Th>
            {canOperate ? <Th>Action</Th> : null}
          </tr>
        </thead>
        <tbody>
          {data.map((t) => (
            <tr key={t.task} data-task={t.task}>
              <Td>
                {TASK_LABEL[t.task]} <code className={styles.muted}>{t.task}</code>
              </Td>
              <Td>
                {t.pause ? (
                  <>
                    <Badge tone="warning">Paused</Badge>{' '}
                    <span className={styles.muted}>
                      by {t.pause.pausedBy} since {formatTimestamp(t.pause.pausedAt)}: “
                      {t.pause.reason}”
                    </span>
                  </>
                ) : (
                  <Badge tone="success">Running</Badge>
                )}
              </Td>
              <Td numeric>{formatCount(t.waiting)}</Td>
              {canOperate ? (
                <Td>
                  {t.pause ? (
                    <Button
                      size="small"
                      variant="primary"
                      onClick={() => setConfirm({ task: t.task, pause: false })}
                      aria-label={`Resume ${TASK_LABEL[t.task]}`}
                    >
                      Resume
                    </Button>
                  ) : (
                    <Button
                      size="small"
                      variant="danger"
                      onClick={() => setConfirm({ task: t.task, pause: true })}
                      aria-label={`Pause ${TASK_LABEL[t.task]}`}
                    >
                      Pause
                    </Button>
                  )}
                </Td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </Table>
      <ConfirmWithReason
        open={confirm !== null}
        title={confirm ? `${confirm.pause ? 'Pause' : 'Resume'} ${label}?` : ''}
        description={
          confirm?.pause
            ? 'Sagas that reach this task wait there, without using attempts, until it is resumed. Jobs already running finish.'
            : 'The waiting sagas are released a few at a time (RXSAGA_RESUME_RATE per second).'
        }
        confirmLabel={confirm ? `${confirm.pause ? 'Pause' : 'Resume'} ${label}` : ''}
        confirmVariant={confirm?.pause ? 'danger' : 'primary'}
        onConfirm={act}
        onClose={() => setConfirm(null)}
      />
    </>
  );
}
