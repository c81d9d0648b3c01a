import { z } from 'zod';
import { API_ROUTES, API_TAGS, type RouteSpec } from './routes';
import { errorSchema, internalErrorSchema } from './schemas';

/**
 * Builds the OpenAPI 3.1 document from the route registry (routes.ts) with zod 4's own JSON
 * Schema output (draft 2020-12, which OpenAPI 3.1 uses as is). Schemas that carry a
 * `.meta({ id })` become `components.schemas` entries referenced from the operations.
 */

type JsonSchema = Record<string, unknown>;

const REF = (id: string) => `#/components/schemas/${id}`;

/** Every schema the document uses, by id, so each named schema is converted once. */
class SchemaSet {
  readonly components: Record<string, JsonSchema> = {};

  constructor(private readonly io: 'input' | 'output') {}

  convert(schema: z.ZodType): JsonSchema {
    const { $schema: _drop, ...json } = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io: this.io,
      // A refine or transform has no JSON Schema form: the shape before it is documented.
      unrepresentable: 'any',
    }) as JsonSchema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    delete json.$defs;
    pointRefsAtComponents(json);
    for (const def of Object.values(defs)) pointRefsAtComponents(def);
    for (const [id, def] of Object.entries(defs)) this.components[id] ??= def;
    const id = z.globalRegistry.get(schema)?.id;
    if (typeof id === 'string') {
      const { id: _id, ...rest } = json;
      this.components[id] ??= rest;
      return { $ref: REF(id) };
    }
    return json;
  }
}

/** A schema converted alone refers to its named parts as `#/$defs/X`; the document keeps them in components. */
function pointRefsAtComponents(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(pointRefsAtComponents);
  if (!node || typeof node !== 'object') return;
  const object = node as Record<string, unknown>;
  if (typeof object.$ref === 'string' && object.$ref.startsWith('#/$defs/')) {
    object.$ref = REF(object.$ref.slice('#/$defs/'.length));
  }
  Object.values(object).forEach(pointRefsAtComponents);
}

const STANDARD_RESPONSES = {
  400: 'Invalid input: nothing was stored.',
  401: 'No valid credentials: sign in, or send `Authorization: Bearer <token>`.',
  403: 'Signed in, but the role does not allow this.',
  413: 'The body is larger than 256 KiB.',
  503: 'The database is out of resources (a full disk): retry after `Retry-After` seconds.',
} as const;

/** The wrapper's own answers (server/http/api-route.ts), by access and by what the route reads. */
function standardStatuses(route: RouteSpec): (keyof typeof STANDARD_RESPONSES)[] {
  const statuses: (keyof typeof STANDARD_RESPONSES)[] = [];
  if (route.query || route.body || route.params) statuses.push(400);
  if (route.access !== 'public') statuses.push(401);
  if (route.access === 'operator' || route.access === 'admin') statuses.push(403);
  if (route.body) statuses.push(413);
  statuses.push(503);
  return statuses;
}

const ROLE_TEXT: Record<RouteSpec['access'], string> = {
  public: 'Open: no credentials needed.',
  viewer: 'Needs a viewer or more (session cookie or API token).',
  operator: 'Needs an operator (session cookie or API token).',
  admin: 'Needs an admin.',
};

function parameters(input: SchemaSet, route: RouteSpec): JsonSchema[] {
  const list: JsonSchema[] = [];
  const add = (where: 'path' | 'query' | 'header', schema: z.ZodObject | undefined) => {
    if (!schema) return;
    const json = input.convert(schema) as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = property;
      list.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  };
  add('path', route.params);
  add('query', route.query);
  add('header', route.headers);
  return list;
}

function operationId(route: RouteSpec): string {
  const words = route.path
    .replace(/^\/api\//, '')
    .split(/[/.]/)
    .map((part) => part.replace(/[{}]/g, ''))
    .filter(Boolean);
  return [route.method.toLowerCase(), ...words]
    .map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1)))
    .join('')
    .replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
}

export function buildOpenApiDocument(routes: readonly RouteSpec[] = API_ROUTES) {
  const input = new SchemaSet('input');
  const output = new SchemaSet('output');
  const error = { 'application/json': { schema: output.convert(errorSchema) } };
  const paths: Record<string, Record<string, unknown>> = {};

  for (const route of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      const content = spec.schema
        ? { 'application/json': { schema: output.convert(spec.schema) } }
        : spec.mediaType
          ? { [spec.mediaType]: { schema: { type: 'string' } } }
          : Number(status) >= 400
            ? error
            : undefined;
      responses[status] = {
        description: spec.description,
        ...(spec.headers
          ? {
              headers: Object.fromEntries(
                Object.entries(spec.headers).map(([name, description]) => [
                  name,
                  { description, schema: { type: 'string' } },
                ]),
              ),
            }
          : {}),
        ...(content ? { content } : {}),
      };
    }
    for (const status of standardStatuses(route)) {
      responses[status] ??= { description: STANDARD_RESPONSES[status], content: error };
    }
    responses['500'] = {
      description: 'A bug: logged with the request id, which the answer carries.',
      content: { 'application/json': { schema: output.convert(internalErrorSchema) } },
    };
    const params = parameters(input, route);
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: operationId(route),
      tags: [route.tag],
      summary: route.summary,
      description: [route.description, ROLE_TEXT[route.access]].filter(Boolean).join('\n\n'),
      ...(route.access === 'public' ? { security: [] } : { 'x-rxsaga-access': route.access }),
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: !route.bodyOptional,
              content: { 'application/json': { schema: input.convert(route.body) } },
            },
          }
        : {}),
      responses,
    };
  }

  return {
    openapi: '3.1.1',
    info: {
      title: 'RxSaga API',
      version: '1',
      summary: 'Order fulfillment sagas of a pharmacy: orders, sagas, stock, drills, audit.',
      description:
        'JSON in and out. Errors are `{ error, issues? }`; every answer carries `x-request-id`. See docs/api.md.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: '/' }],
    security: [{ bearerToken: [] }, { sessionCookie: [] }],
    tags: Object.entries(API_TAGS)
      .filter(([name]) => routes.some((r) => r.tag === name))
      .map(([name, description]) => ({ name, description })),
    paths,
    components: {
      securitySchemes: {
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'RXSAGA_API_TOKEN (operator).',
        },
        sessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: 'rxsaga_session',
          description: 'Set by POST /api/session.',
        },
      },
      schemas: { ...input.components, ...output.components },
    },
  };
}
