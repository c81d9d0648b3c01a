import { eq } from 'drizzle-orm';
import { groupFailures, type FailureGroup } from '@/lib/incidents/failure-groups';
import type { DbOrTx } from '../client';
import { orderFulfillmentSagas as sagas } from '../schema';

/**
 * The flagged sagas, grouped (lib/incidents/failure-groups.ts). Reads only flagged sagas (a
 * few columns each), which stay few: an incident of 10 000 costs a few milliseconds.
 */
export async function listFailureGroups(db: DbOrTx): Promise<FailureGroup[]> {
  const rows = await db
    .select({
      sagaId: sagas.sagaId,
      orderId: sagas.orderId,
      task: sagas.currentTask,
      reason: sagas.interventionReason,
      since: sagas.interventionSince,
    })
    .from(sagas)
    .where(eq(sagas.needsIntervention, true));
  return groupFailures(rows);
}
