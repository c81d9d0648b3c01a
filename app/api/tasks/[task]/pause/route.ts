import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { pauseTask } from '@/lib/commands/task-pause';
import { operatorRoute } from '@/lib/http/api-route';
import { readJsonBody } from '@/lib/http/body';
import { json } from '@/lib/http/responses';

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
