import { listBulkOperations } from '@/db/bulk-operations';
import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { startBulkOperation } from '@/server/commands/bulk-operation';
import { bulkHistoryQuerySchema } from '@/lib/incidents/bulk-operation-input';
import { operatorRoute, parseQuery, viewerRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

/** The history, newest first: `{ items, nextCursor }`. */
export const GET = viewerRoute(async ({ request }) =>
  json(await listBulkOperations(getDb(), parseQuery(request, bulkHistoryQuerySchema))),
);

/**
 * `{ action, filter, reason, dryRun? }`: a dry run answers 200 `{ matched, sample }` and changes
 * nothing; otherwise 202 `{ operationId, matched }` and the operation runs in the background.
 */
export const POST = operatorRoute(async ({ request, principal, requestId }) => {
  const answer = await startBulkOperation(
    getDb(),
    await readJsonBody(request),
    auditActorOf(principal, requestId),
  );
  return answer.dryRun
    ? json({ matched: answer.matched, sample: answer.sample })
    : json({ operationId: answer.operationId, matched: answer.matched }, { status: 202 });
});
