import { getDb } from '@/db/client';
import { getSagaDetail } from '@/db/queries/sagas';
import { forViewer } from '@/lib/auth/redact';
import { notFound } from '@/lib/errors';
import { viewerRoute } from '@/lib/http/api-route';
import { json } from '@/lib/http/responses';

/** The saga with its timeline (`events`, saga and order streams in order) and `durationSeconds`. */
export const GET = viewerRoute<{ sagaId: string }>(async ({ params, principal }) => {
  const saga = await getSagaDetail(getDb(), params.sagaId);
  if (!saga) throw notFound(`saga ${params.sagaId} not found`);
  return json(forViewer(principal, saga));
});
