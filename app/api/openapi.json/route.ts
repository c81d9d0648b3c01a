import { buildOpenApiDocument } from '@/server/api/openapi';
import { publicRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/** Built once per process: it depends on the code only. */
let document: ReturnType<typeof buildOpenApiDocument> | undefined;

/** GET /api/openapi.json: the OpenAPI 3.1 document of this API, generated from server/api/routes.ts. */
export const GET = publicRoute(async () => json((document ??= buildOpenApiDocument())));
