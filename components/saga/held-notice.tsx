'use client';

import { useQuery } from '@tanstack/react-query';
import type { PauseView } from '@/db/queries/task-controls';
import { fetchJson, liveKeys } from '@/components/live/query-keys';
import { Notice } from '@/components/ui/badge';
import { isTask } from '@/lib/saga/model';
import { formatTimestamp, humanize } from '@/lib/web/format';
import { TASK_LABEL } from './saga-labels';

/**
 * A saga waiting at a paused task: "waiting: Initiate shipment is paused by … since …: …".
 * After a resume it waits a little longer, for its turn in the release.
 */
export function HeldNotice({ task, pausedAt }: { task: string; pausedAt: string }) {
  const { data } = useQuery({
    queryKey: liveKeys.pauses,
    queryFn: () => fetchJson<{ items: PauseView[] }>('/api/pauses'),
    refetchInterval: 5_000,
  });
  const label = isTask(task) ? TASK_LABEL[task] : humanize(task);
  const pause = data?.items.find((p) => p.task === task);
  return (
    <div data-held-notice>
      <Notice tone="warning" role="status">
        <strong>waiting:</strong>{' '}
        {pause
          ? `${label} is paused by ${pause.pausedBy} since ${formatTimestamp(pause.pausedAt)}: ${pause.reason}`
          : data
            ? `${label} was resumed; this saga (held since ${formatTimestamp(pausedAt)}) goes on in its turn`
            : `${label} is paused (held since ${formatTimestamp(pausedAt)})`}
      </Notice>
    </div>
  );
}
