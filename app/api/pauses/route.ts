import { getDb } from '@/db/client';
import { listPauseViews } from '@/db/queries/task-controls';
import { viewerRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/** The paused tasks: `{ items: [{ task, reason, pausedBy, pausedAt }] }`, oldest pause first. */
export const GET = viewerRoute(async () => json({ items: await listPauseViews(getDb()) }));
