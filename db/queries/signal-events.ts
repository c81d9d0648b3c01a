import { sql } from 'drizzle-orm';
import {
  COMPENSATION_TASKS,
  TASKS,
  type CompensationTask,
  type StepTask,
  type Task,
} from '@/lib/saga/model';
import type { DbOrTx } from '../client';

/**
 * Counts of the events that say something went wrong or was undone, read through the partial
 * index events_signal_type_recorded_at_idx. Stats (per window) and /api/metrics (all time)
 * share this, so a dashboard figure and a Prometheus counter never disagree.
 */

const COMPENSATED_BY: Record<string, CompensationTask> = {
  'order.inventory_released': 'release-inventory',
  'order.prescription_cancelled': 'cancel-prescription',
  'order.cancelled': 'cancel-order',
};
const BUSINESS_FAILURE_OF: Record<string, StepTask> = {
  'order.prescription_failed': 'create-prescription',
  'order.inventory_reservation_failed': 'reserve-inventory',
  'order.shipment_initiation_failed': 'initiate-shipment',
};

/** business: a rule refused the step; transient: an attempt will be retried; intervention: a human must act. */
export const FAILURE_KINDS = ['business', 'transient', 'intervention'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface SignalCounts {
  compensationsByTask: { task: CompensationTask; count: number }[];
  failuresByTask: ({ task: Task } & Record<FailureKind, number>)[];
}

/** `since` null counts everything. */
export async function countSignalEvents(db: DbOrTx, since: Date | null): Promise<SignalCounts> {
  const from = since ? sql`and recorded_at >= ${since.toISOString()}::timestamptz` : sql``;
  // By type alone the index answers without reading the events; only the (rare) retry and
  // escalation events are read for the task they name.
  const [byType, byTask] = await Promise.all([
    db.execute<{ type: string; n: number }>(sql`
      select type, count(*)::int as n from events where event_type_is_signal(type) ${from} group by type`),
    db.execute<{ type: string; task: string | null; n: number }>(sql`
      select type, payload->>'task' as task, count(*)::int as n from events
      where type in ('order_fulfillment_saga.attempt_failed', 'order_fulfillment_saga.intervention_required') ${from}
      group by 1, 2`),
  ]);

  return toSignalCounts(byType, byTask);
}

/**
 * The counts from rows by type, and rows of retries and escalations by the task they name. The
 * exact path above and the rollup path of long windows (stats.ts) share it.
 */
export function toSignalCounts(
  byType: readonly { type: string; n: number }[],
  byTask: readonly { type: string; task: string | null; n: number }[],
): SignalCounts {
  const compensations = new Map<CompensationTask, number>(COMPENSATION_TASKS.map((t) => [t, 0]));
  const failures = new Map(
    TASKS.map((t) => [t as Task, { business: 0, transient: 0, intervention: 0 }]),
  );
  for (const row of byType) {
    const undone = COMPENSATED_BY[row.type];
    if (undone) compensations.set(undone, row.n);
    const failed = BUSINESS_FAILURE_OF[row.type];
    if (failed) failures.get(failed)!.business += row.n;
  }
  for (const row of byTask) {
    const counts = row.task ? failures.get(row.task as Task) : undefined;
    if (!counts) continue; // an escalation with no task (a stalled finished saga) has no step to blame
    if (row.type === 'order_fulfillment_saga.attempt_failed') counts.transient += row.n;
    else counts.intervention += row.n;
  }
  return {
    compensationsByTask: [...compensations].map(([task, count]) => ({ task, count })),
    failuresByTask: [...failures].map(([task, counts]) => ({ task, ...counts })),
  };
}

export const COMPENSATION_EVENT_TYPES = Object.keys(COMPENSATED_BY);
