import { asc, count, eq } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { pausedSagas, orderFulfillmentSagas as sagas } from '../schema';
import { heldAtCurrentTask, sagaWithHold, toSagaView, type SagaView } from './sagas';

export interface InterventionView extends SagaView {
  /** When the saga was flagged: the queue is worked oldest first. */
  interventionSince: string | null;
}

export interface InterventionQueue {
  items: InterventionView[];
  /** All flagged sagas, which may be more than the page shows. */
  total: number;
}

const INTERVENTION_PAGE_SIZE = 200;

/**
 * The sagas waiting for a human, oldest flag first, read through the partial index
 * sagas_needs_intervention_idx (intervention_since where needs_intervention): cheap however
 * many sagas exist, since only flagged ones are in it.
 */
export async function listInterventions(
  db: DbOrTx,
  limit = INTERVENTION_PAGE_SIZE,
): Promise<InterventionQueue> {
  const [rows, [total]] = await Promise.all([
    db
      .select(sagaWithHold)
      .from(sagas)
      .leftJoin(pausedSagas, heldAtCurrentTask)
      .where(eq(sagas.needsIntervention, true))
      .orderBy(asc(sagas.interventionSince), asc(sagas.sagaId))
      .limit(limit),
    db.select({ n: count() }).from(sagas).where(eq(sagas.needsIntervention, true)),
  ]);
  return {
    items: rows.map((row) => ({
      ...toSagaView(row),
      interventionSince: row.row.interventionSince?.toISOString() ?? null,
    })),
    total: total?.n ?? 0,
  };
}
