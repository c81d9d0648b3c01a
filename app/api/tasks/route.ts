import { getDb } from '@/db/client';
import { listTaskControls } from '@/db/queries/task-controls';
import { viewerRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/** Every task with its pause (or null) and the sagas waiting at it: the Controls page. */
export const GET = viewerRoute(async () => json({ items: await listTaskControls(getDb()) }));
