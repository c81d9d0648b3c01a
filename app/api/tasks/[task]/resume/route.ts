import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { resumeTask } from '@/server/commands/task-pause';
import { operatorRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

/** `{ reason }` → 200 `{ task, paused: false }`; the waiting sagas are released gradually. */
export const POST = operatorRoute<{ task: string }>(
  async ({ request, params, principal, requestId }) =>
    json(
      await resumeTask(
        getDb(),
        params.task,
        await readJsonBody(request),
        auditActorOf(principal, requestId),
      ),
    ),
);
