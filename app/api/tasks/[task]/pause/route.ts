import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { pauseTask } from '@/server/commands/task-pause';
import { operatorRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

/** `{ reason }` → 200 `{ task, paused: true }`; 404 for a task that does not exist. */
export const POST = operatorRoute<{ task: string }>(
  async ({ request, params, principal, requestId }) =>
    json(
      await pauseTask(
        getDb(),
        params.task,
        await readJsonBody(request),
        auditActorOf(principal, requestId),
      ),
    ),
);
