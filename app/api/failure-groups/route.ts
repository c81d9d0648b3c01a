import { getDb } from '@/db/client';
import { listFailureGroups } from '@/db/queries/failure-groups';
import { viewerRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/** `{ items: [{ groupId, task, kind, error, count, firstSeenAt, lastSeenAt, sample }] }`, largest first. */
export const GET = viewerRoute(async () => json({ items: await listFailureGroups(getDb()) }));
