import { findArchivedSaga } from '@/db/archive';
import { getDb } from '@/db/client';
import { getSagaDetail } from '@/db/queries/sagas';
import { forViewer } from '@/lib/auth/redact';
import { notFound, SagaArchived } from '@/lib/errors';
import { viewerRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/**
 * The saga with its timeline (`events`, saga and order streams in order) and `durationSeconds`;
 * 410 with `archived` (where it went) for an archived saga.
 */
export const GET = viewerRoute<{ sagaId: string }>(async ({ params, principal }) => {
  const db = getDb();
  const saga = await getSagaDetail(db, params.sagaId);
  if (saga) return json(forViewer(principal, saga));
  const archived = await findArchivedSaga(db, params.sagaId);
  throw archived ? new SagaArchived(archived) : notFound(`saga ${params.sagaId} not found`);
});
