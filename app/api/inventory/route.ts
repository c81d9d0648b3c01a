import { getDb } from '@/db/client';
import { listInventory } from '@/db/queries/stock';
import { viewerRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

export const GET = viewerRoute(async () => json({ items: await listInventory(getDb()) }));
