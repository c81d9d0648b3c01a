import { getDb } from '@/db/client';
import { listInventory } from '@/db/queries/stock';
import { viewerRoute } from '@/lib/http/api-route';
import { json } from '@/lib/http/responses';

export const GET = viewerRoute(async () => json({ items: await listInventory(getDb()) }));
