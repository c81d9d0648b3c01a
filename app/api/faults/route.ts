import { getDb } from '@/db/client';
import { listFaultSettings } from '@/db/faults';
import { auditActorOf } from '@/lib/auth/principal';
import { setFaultSettings } from '@/server/commands/set-fault-settings';
import { operatorRoute, viewerRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

export const GET = viewerRoute(async () => json({ items: await listFaultSettings(getDb()) }));

/** `{ items: [{ task, failureRate, transientRate, latencyMs }], reason? }`: the tasks named change. */
export const PUT = operatorRoute(async ({ request, principal, requestId }) => {
  const items = await setFaultSettings(
    getDb(),
    await readJsonBody(request),
    auditActorOf(principal, requestId),
  );
  return json({ items });
});
