import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database } from '@/db/client';
import { events, orderFulfillmentSagas } from '@/db/schema';
import type { SagaState } from '@/lib/saga/model';

/**
 * Sagas written straight into the read model with chosen times and outcomes, for tests whose
 * expected figures (stats, pagination order) must be exact. Not for anything that runs tasks.
 */
export interface SagaRowSpec {
  state: SagaState;
  /** Seconds before now the saga started. */
  startedAgo: number;
  /** Seconds it took; set for COMPLETED and CANCELLED. */
  durationSeconds?: number;
  compensations?: string[];
  needsIntervention?: boolean;
  patientId?: string;
  orderId?: string;
}

export async function insertSagaRows(db: Database, specs: SagaRowSpec[]): Promise<string[]> {
  const [clock] = await db.execute<{ now: string }>(sql`select now() as now`);
  const now = new Date(clock!.now).getTime();
  const rows = specs.map((s) => {
    const sagaId = randomUUID();
    const startedAt = new Date(now - s.startedAgo * 1000);
    const completedAt =
      s.durationSeconds === undefined
        ? null
        : new Date(startedAt.getTime() + s.durationSeconds * 1000);
    return {
      sagaId,
      orderId: s.orderId ?? `ORD-${sagaId}`,
      patientId: s.patientId ?? 'PAT-ROWS',
      state: s.state,
      currentTask: null,
      completedSteps: ['create-order'],
      compensationsDone: s.compensations ?? [],
      needsIntervention: s.needsIntervention ?? false,
      interventionReason: s.needsIntervention ? 'test: flagged' : null,
      interventionSince: s.needsIntervention ? startedAt : null,
      startedAt,
      updatedAt: completedAt ?? startedAt,
      completedAt,
      version: 1,
      orderVersion: 1,
      lastPosition: 0,
    };
  });
  if (rows.length > 0) await db.insert(orderFulfillmentSagas).values(rows);
  return rows.map((r) => r.sagaId);
}

/** A compensation event of the given type, recorded `ago` seconds before now. */
export async function insertCompensationEvent(
  db: Database,
  type: 'order.cancelled' | 'order.inventory_released',
  ago: number,
) {
  const id = randomUUID();
  await db.insert(events).values({
    sagaMonth: sql`saga_month(now() - make_interval(secs => ${ago}))` as unknown as string,
    streamId: `order-test-${id}`,
    version: 1,
    type,
    payload:
      type === 'order.cancelled' ? { orderId: id, reason: 'test' } : { orderId: id, lines: [] },
    metadata: { correlationId: id },
    recordedAt: sql`now() - make_interval(secs => ${ago})` as unknown as Date,
  });
}
