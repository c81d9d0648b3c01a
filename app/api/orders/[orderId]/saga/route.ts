import { getDb } from '@/db/client';
import { getSagaViewByOrderId } from '@/db/queries/sagas';
import { forViewer } from '@/lib/auth/redact';
import { notFound } from '@/lib/errors';
import { viewerRoute } from '@/lib/http/api-route';
import { json } from '@/lib/http/responses';

export const GET = viewerRoute<{ orderId: string }>(async ({ params, principal }) => {
  const saga = await getSagaViewByOrderId(getDb(), params.orderId);
  if (!saga) throw notFound(`order ${params.orderId} not found`);
  return json(forViewer(principal, saga));
});
