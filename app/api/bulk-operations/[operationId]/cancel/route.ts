import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { cancelBulkOperation } from '@/server/commands/bulk-operation';
import { operatorRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

/** Stops a running operation (`{ reason? }`, or no body): 200 with it; 409 once it has ended. */
export const POST = operatorRoute<{ operationId: string }>(
  async ({ request, params, principal, requestId }) => {
    const hasBody = (request.headers.get('content-type') ?? '').includes('json');
    const operation = await cancelBulkOperation(
      getDb(),
      params.operationId,
      hasBody ? await readJsonBody(request) : undefined,
      auditActorOf(principal, requestId),
    );
    return json(operation);
  },
);
