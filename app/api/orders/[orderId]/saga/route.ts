import { findArchivedSaga } from '@/db/archive';
import { getDb } from '@/db/client';
import { getSagaViewByOrderId } from '@/db/queries/sagas';
import { forViewer } from '@/lib/auth/redact';
import { notFound, SagaArchived } from '@/lib/errors';
import { viewerRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/** The saga of an order; 410 with `archived` (where it went) when it is archived. */
export const GET = viewerRoute<{ orderId: string }>(async ({ params, principal }) => {
  const db = getDb();
  const saga = await getSagaViewByOrderId(db, params.orderId);
  if (saga) return json(forViewer(principal, saga));
  const archived = await findArchivedSaga(db, params.orderId);
  throw archived ? new SagaArchived(archived) : notFound(`order ${params.orderId} not found`);
});
