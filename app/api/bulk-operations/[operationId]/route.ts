import { z } from 'zod';
import { getBulkOperation } from '@/db/bulk-operations';
import { getDb } from '@/db/client';
import { notFound } from '@/lib/errors';
import { viewerRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/** One operation with its progress: status, total, succeeded, skipped, failed. */
export const GET = viewerRoute<{ operationId: string }>(async ({ params }) => {
  const missing = () => notFound(`operation ${params.operationId} not found`);
  if (!z.uuid().safeParse(params.operationId).success) throw missing();
  const operation = await getBulkOperation(getDb(), params.operationId);
  if (!operation) throw missing();
  return json(operation);
});
