import { getDb } from '@/db/client';
import { listInterventions } from '@/db/queries/interventions';
import { forViewer } from '@/lib/auth/redact';
import { viewerRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/** The intervention queue, oldest flag first (the dashboard's /interventions page polls this). */
export const GET = viewerRoute(async ({ principal }) =>
  json(forViewer(principal, await listInterventions(getDb()))),
);
