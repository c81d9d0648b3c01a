import { z } from 'zod';
import { auditQuerySchema } from '@/db/queries/audit';
import { sagaListQuerySchema } from '@/db/queries/sagas';
import { statsQuerySchema } from '@/db/queries/stats';
import { operatorActionSchema } from '@/server/commands/operator-action';
import { cancelInputSchema } from '@/server/commands/bulk-operation';
import { createOrderInputSchema } from '@/server/commands/order-input';
import { setFaultSettingsInputSchema } from '@/server/commands/set-fault-settings';
import { setOnHandInputSchema } from '@/server/commands/set-on-hand';
import { signInInputSchema } from '@/server/commands/sign-in';
import {
  changeOwnPasswordSchema,
  createAccountSchema,
  createTokenSchema,
  updateAccountSchema,
} from '@/lib/auth/account-rules';
import {
  bulkHistoryQuerySchema,
  bulkOperationInputSchema,
} from '@/lib/incidents/bulk-operation-input';
import {
  alertDeliveriesSchema,
  alertDeliveryRetriedSchema,
  alertsSchema,
  testAlertQueuedSchema,
  bulkDryRunSchema,
  bulkOperationPageSchema,
  bulkOperationSchema,
  bulkStartedSchema,
  failureGroupsSchema,
  auditPageSchema,
  catalogSchema,
  faultSettingsSchema,
  healthSchema,
  interventionQueueSchema,
  inventorySchema,
  operatorActionResultSchema,
  orderCreatedSchema,
  pausesSchema,
  principalSchema,
  signedInSchema,
  accountSchema,
  accountsSchema,
  apiTokensSchema,
  apiTokenCreatedSchema,
  sagaDetailSchema,
  sagaPageSchema,
  sagaSchema,
  statsSchema,
  stockLevelSchema,
  taskControlsSchema,
  taskPauseResultSchema,
  unhealthySchema,
} from './schemas';

/**
 * The API contract: one entry per route and method under app/api. The OpenAPI document
 * (`/api/openapi.json`) is generated from it, and `app/api/openapi.int.test.ts` fails when a
 * route file has no entry, an entry has no route, a route's access differs from its entry, or a
 * real answer does not match its documented schema. Request schemas are the very objects the
 * handlers parse with; response schemas are tied to the handlers' types (schemas.ts).
 * How to add a route: docs/api.md.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who may call: `public` needs nothing; the others need at least that role (DESIGN.md). */
export type Access = 'public' | 'viewer' | 'operator' | 'admin';

export interface ResponseSpec {
  description: string;
  /** A zod schema for a JSON body; omit for an empty body. */
  schema?: z.ZodType;
  /** Non-JSON bodies (Prometheus text, an event stream): the media type, body not validated. */
  mediaType?: string;
  headers?: Record<string, string>;
}

export interface RouteSpec {
  method: HttpMethod;
  /** OpenAPI form: `/api/sagas/{sagaId}`. */
  path: string;
  access: Access;
  tag: keyof typeof API_TAGS;
  summary: string;
  description?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The body may be left out altogether. */
  bodyOptional?: boolean;
  /** Request headers the route reads, other than Authorization. */
  headers?: z.ZodObject;
  /**
   * The answers of the route itself. The wrapper's answers are added for you: 401/403 by
   * access, 400 when there is a query or body, 413 with a body, 500 always.
   */
  responses: Record<number, ResponseSpec>;
}

/** The reference page's sections, in this order. */
export const API_TAGS = {
  Orders: 'Placing orders: each starts a saga.',
  Sagas: 'Watching sagas, and the operator actions on them.',
  Stats: 'The figures of the overview page.',
  Stock: 'The catalog and stock levels.',
  Controls: 'Pausing and resuming a task during an incident.',
  Incidents: 'Failure groups and bulk retry or cancel of many sagas.',
  Drills: 'Fault injection per task, for drills.',
  Alerts: 'Alerts the product raises about itself.',
  Audit: 'Who did what: operator actions and sign-ins.',
  Live: 'Live updates for open dashboards.',
  Session: 'Signing in and out of the dashboard.',
  Accounts: 'Accounts and named API tokens (admins).',
  System: 'Health, metrics and this document.',
} as const;

const sagaId = z.object({ sagaId: z.uuid().describe('The saga id (a UUID).') });
const operationId = z.object({ operationId: z.string().describe('The operation id (a UUID).') });
const taskParam = z.object({ task: z.string().describe('A step or compensation task name.') });
const notFound = (what: string): ResponseSpec => ({ description: `No such ${what}.` });
const archived: ResponseSpec = {
  description: 'The saga is archived: `archived` says where (`npm run restore` brings it back).',
};
const conflict = (when: string): ResponseSpec => ({ description: when });
/** The single sign-on routes: a redirect where it works, 404 where it is not configured. */
const ssoRedirect = (where: string): Record<number, ResponseSpec> => ({
  303: { description: where, headers: { Location: 'Where to go.' } },
  404: { description: 'Single sign-on is not configured.' },
});

export const API_ROUTES: readonly RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/health',
    access: 'public',
    tag: 'System',
    summary: 'Readiness: the database answers and the migrations ran',
    responses: {
      200: { description: 'Ready.', schema: healthSchema },
      503: {
        description: 'Not ready (the database is down or not migrated).',
        schema: unhealthySchema,
      },
    },
  },
  {
    method: 'GET',
    path: '/api/metrics',
    access: 'public',
    tag: 'System',
    summary: 'Prometheus metrics of the whole system',
    description:
      'Open unless RXSAGA_METRICS_TOKEN is set; then `Authorization: Bearer <that token>` is required (401 otherwise). Figures are read from the database, so any web instance reports every worker.',
    responses: {
      200: { description: 'Prometheus text exposition format.', mediaType: 'text/plain' },
      401: { description: 'RXSAGA_METRICS_TOKEN is set and was not sent.' },
    },
  },
  {
    method: 'GET',
    path: '/api/openapi.json',
    access: 'public',
    tag: 'System',
    summary: 'This OpenAPI 3.1 document',
    responses: { 200: { description: 'The document.', schema: z.record(z.string(), z.unknown()) } },
  },
  {
    method: 'GET',
    path: '/api/session',
    access: 'public',
    tag: 'Session',
    summary: 'Who is signed in (session cookie or API token)',
    responses: {
      200: { description: 'The caller.', schema: principalSchema },
      401: { description: 'Nobody is signed in.' },
    },
  },
  {
    method: 'POST',
    path: '/api/session',
    access: 'public',
    tag: 'Session',
    summary: 'Sign in: sets the session cookie',
    body: signInInputSchema,
    responses: {
      200: { description: 'Signed in; the cookie is set.', schema: signedInSchema },
      401: { description: 'Wrong username or password (one answer for both).' },
      403: { description: 'Posted from another site (Origin or Sec-Fetch-Site).' },
      429: {
        description:
          'Too many failed sign-ins from this client, or on this account by a client that failed itself: wait.',
        headers: { 'Retry-After': 'Seconds to wait.' },
      },
    },
  },
  {
    method: 'DELETE',
    path: '/api/session',
    access: 'public',
    tag: 'Session',
    summary: 'Sign out',
    responses: { 204: { description: 'Signed out; the session is deleted on the server.' } },
  },
  {
    method: 'GET',
    path: '/api/session/oidc',
    access: 'public',
    tag: 'Session',
    summary: 'Single sign-on: go to the OpenID provider',
    description:
      'Authorization code flow with PKCE, state and nonce (docs/accounts.md). Sets a 10-minute cookie binding this browser to the attempt.',
    query: z.object({
      next: z.string().optional().describe('A path of this app to land on after signing in.'),
    }),
    responses: ssoRedirect(
      "To the provider's authorization endpoint; to `/sign-in?sso=unavailable` when the provider cannot be reached.",
    ),
  },
  {
    method: 'GET',
    path: '/api/session/oidc/callback',
    access: 'public',
    tag: 'Session',
    summary: "Single sign-on: the provider's answer",
    description:
      'The provider sends the browser here. Verified and mapped to a role, it starts a session and leads to the page the sign-in started from; refused, it leads to `/sign-in?sso=<why>` (expired, rejected, denied, no_role, no_username, username_taken, disabled). Every outcome is audited.',
    query: z.object({
      code: z.string().optional().describe('The authorization code.'),
      state: z.string().optional().describe('The state sent to the provider.'),
      iss: z.string().optional().describe('The issuer (RFC 9207).'),
      error: z.string().optional().describe("The provider's refusal."),
    }),
    responses: ssoRedirect(
      'Signed in (the session cookie is set), or refused: see the description.',
    ),
  },
  {
    method: 'PUT',
    path: '/api/account/password',
    access: 'viewer',
    tag: 'Session',
    summary: 'Change your own password (a session, not a token)',
    body: changeOwnPasswordSchema,
    responses: {
      200: {
        description: 'Changed; every session of the account ended, a new one is set.',
        schema: signedInSchema,
      },
      403: { description: 'Called with a token.' },
      409: { description: 'A single sign-on account: it has no password.' },
      429: {
        description:
          'Too many wrong passwords from this client (a wrong current password counts as a failed sign-in): wait.',
        headers: { 'Retry-After': 'Seconds to wait.' },
      },
    },
  },
  {
    method: 'GET',
    path: '/api/users',
    access: 'admin',
    tag: 'Accounts',
    summary: 'Every account',
    responses: { 200: { description: 'The accounts.', schema: accountsSchema } },
  },
  {
    method: 'POST',
    path: '/api/users',
    access: 'admin',
    tag: 'Accounts',
    summary: 'Add an account',
    body: createAccountSchema,
    responses: {
      201: { description: 'Created.', schema: accountSchema },
      409: conflict('The username is taken (or is an API token name).'),
    },
  },
  {
    method: 'PATCH',
    path: '/api/users/{username}',
    access: 'admin',
    tag: 'Accounts',
    summary: 'Change an account: display name, role, disabled, password',
    description: 'A new role, a new password or disabling ends every session of the account.',
    params: z.object({ username: z.string().describe('The username.') }),
    body: updateAccountSchema,
    responses: {
      200: { description: 'Changed.', schema: accountSchema },
      404: notFound('account'),
      409: conflict('The last enabled admin cannot be disabled or demoted.'),
    },
  },
  {
    method: 'GET',
    path: '/api/tokens',
    access: 'admin',
    tag: 'Accounts',
    summary: 'Named API tokens (never their secrets)',
    responses: { 200: { description: 'The tokens.', schema: apiTokensSchema } },
  },
  {
    method: 'POST',
    path: '/api/tokens',
    access: 'admin',
    tag: 'Accounts',
    summary: 'Make a named API token; its secret is shown this once',
    body: createTokenSchema,
    responses: {
      201: { description: 'Made.', schema: apiTokenCreatedSchema },
      409: conflict('The name is taken (or is a username).'),
    },
  },
  {
    method: 'DELETE',
    path: '/api/tokens/{name}',
    access: 'admin',
    tag: 'Accounts',
    summary: 'Revoke a named API token',
    params: z.object({ name: z.string().describe('The token name.') }),
    responses: { 204: { description: 'Revoked.' }, 404: notFound('token') },
  },
  {
    method: 'POST',
    path: '/api/orders',
    access: 'operator',
    tag: 'Orders',
    summary: 'Place an order: starts its saga',
    headers: z.object({
      'Idempotency-Key': z
        .string()
        .max(200)
        .optional()
        .describe('Same key and body: the first answer again (200). Same key, other body: 409.'),
    }),
    body: createOrderInputSchema,
    responses: {
      201: {
        description: 'Created: the order, its saga and its first job are committed.',
        schema: orderCreatedSchema,
        headers: { Location: 'The saga: /api/sagas/{sagaId}.' },
      },
      200: {
        description: 'A replay of an earlier Idempotency-Key with the same body.',
        schema: orderCreatedSchema,
      },
      409: conflict('The orderId exists, or the Idempotency-Key was used with another body.'),
      422: { description: 'A medication is not in the catalog.' },
    },
  },
  {
    method: 'GET',
    path: '/api/orders/{orderId}/saga',
    access: 'viewer',
    tag: 'Sagas',
    summary: 'The saga of an order',
    params: z.object({ orderId: z.string().describe('The order id.') }),
    responses: {
      200: { description: 'The saga.', schema: sagaSchema },
      404: notFound('order'),
      410: archived,
    },
  },
  {
    method: 'GET',
    path: '/api/sagas',
    access: 'viewer',
    tag: 'Sagas',
    summary: 'Sagas, newest first, keyset-paginated',
    description:
      'Pass `nextCursor` back as `cursor`; null means the last page. `q` matches an order id, saga id or patient id exactly.',
    query: sagaListQuerySchema,
    responses: { 200: { description: 'A page of sagas.', schema: sagaPageSchema } },
  },
  {
    method: 'GET',
    path: '/api/sagas/{sagaId}',
    access: 'viewer',
    tag: 'Sagas',
    summary: 'A saga with its timeline',
    params: sagaId,
    responses: {
      200: { description: 'The saga and its events.', schema: sagaDetailSchema },
      404: notFound('saga'),
      410: archived,
    },
  },
  {
    method: 'POST',
    path: '/api/sagas/{sagaId}/retry',
    access: 'operator',
    tag: 'Sagas',
    summary: 'Retry a saga that needs intervention',
    description: 'The step or compensation it is stuck on runs again with fresh attempts.',
    params: sagaId,
    body: operatorActionSchema,
    responses: {
      202: {
        description: 'Accepted: the task is queued again.',
        schema: operatorActionResultSchema,
      },
      404: notFound('saga'),
      409: conflict('The saga does not need a retry.'),
    },
  },
  {
    method: 'POST',
    path: '/api/sagas/{sagaId}/cancel',
    access: 'operator',
    tag: 'Sagas',
    summary: 'Cancel a saga: undo what was done, newest first',
    params: sagaId,
    body: operatorActionSchema,
    responses: {
      202: {
        description: 'Accepted: the compensations are queued.',
        schema: operatorActionResultSchema,
      },
      404: notFound('saga'),
      409: conflict('The saga has finished or is already compensating.'),
    },
  },
  {
    method: 'GET',
    path: '/api/interventions',
    access: 'viewer',
    tag: 'Sagas',
    summary: 'Sagas needing intervention, oldest flag first',
    responses: { 200: { description: 'The queue.', schema: interventionQueueSchema } },
  },
  {
    method: 'GET',
    path: '/api/stats',
    access: 'viewer',
    tag: 'Stats',
    summary: 'KPIs and chart series over a window',
    description:
      'Over sagas started in the window. Ratios and durations are null when no saga has finished. For 24h / 7d / all over 5,000 finished sagas, p50 / p95 come from an hourly histogram (within one ~9 %-wide bucket).',
    query: statsQuerySchema,
    responses: { 200: { description: 'The figures.', schema: statsSchema } },
  },
  {
    method: 'GET',
    path: '/api/catalog',
    access: 'viewer',
    tag: 'Stock',
    summary: 'The medications that can be ordered',
    responses: { 200: { description: 'The catalog.', schema: catalogSchema } },
  },
  {
    method: 'GET',
    path: '/api/inventory',
    access: 'viewer',
    tag: 'Stock',
    summary: 'Stock levels',
    responses: { 200: { description: 'Every SKU.', schema: inventorySchema } },
  },
  {
    method: 'PUT',
    path: '/api/inventory/{sku}',
    access: 'operator',
    tag: 'Stock',
    summary: 'Set the units on hand of a SKU',
    params: z.object({ sku: z.string().describe('The SKU.') }),
    body: setOnHandInputSchema,
    responses: {
      200: { description: 'The new level.', schema: stockLevelSchema },
      404: notFound('SKU'),
      409: conflict('onHand is below what is reserved.'),
    },
  },
  {
    method: 'GET',
    path: '/api/faults',
    access: 'viewer',
    tag: 'Drills',
    summary: 'Fault injection settings, one per task',
    responses: { 200: { description: 'Every task.', schema: faultSettingsSchema } },
  },
  {
    method: 'PUT',
    path: '/api/faults',
    access: 'operator',
    tag: 'Drills',
    summary: 'Change fault injection for the tasks named',
    body: setFaultSettingsInputSchema,
    responses: {
      200: { description: 'Every task after the change.', schema: faultSettingsSchema },
    },
  },
  {
    method: 'GET',
    path: '/api/pauses',
    access: 'viewer',
    tag: 'Controls',
    summary: 'The paused tasks, oldest pause first',
    responses: { 200: { description: 'Every pause.', schema: pausesSchema } },
  },
  {
    method: 'GET',
    path: '/api/tasks',
    access: 'viewer',
    tag: 'Controls',
    summary: 'Every task with its pause and the sagas waiting at it',
    responses: { 200: { description: 'Every task.', schema: taskControlsSchema } },
  },
  ...(['pause', 'resume'] as const).map((action): RouteSpec => ({
    method: 'POST',
    path: `/api/tasks/{task}/${action}`,
    access: 'operator',
    tag: 'Controls',
    summary:
      action === 'pause'
        ? 'Pause a task: sagas reaching it wait there, using no attempt'
        : 'Resume a task: the sagas held at it are released at RXSAGA_RESUME_RATE',
    params: taskParam,
    body: operatorActionSchema,
    responses: {
      200: { description: `The task, ${action}d.`, schema: taskPauseResultSchema },
      404: notFound('task'),
    },
  })),
  {
    method: 'GET',
    path: '/api/failure-groups',
    access: 'viewer',
    tag: 'Incidents',
    summary: 'Sagas needing intervention, grouped by task and normalised error',
    responses: { 200: { description: 'The groups, largest first.', schema: failureGroupsSchema } },
  },
  {
    method: 'GET',
    path: '/api/bulk-operations',
    access: 'viewer',
    tag: 'Incidents',
    summary: 'Bulk operations, newest first',
    query: bulkHistoryQuerySchema,
    responses: { 200: { description: 'A page of the history.', schema: bulkOperationPageSchema } },
  },
  {
    method: 'POST',
    path: '/api/bulk-operations',
    access: 'operator',
    tag: 'Incidents',
    summary: 'Retry or cancel every saga a filter matches (or count them: dryRun)',
    description:
      'The set of sagas is fixed when the operation is created; sagas that match later are not touched. Each saga gets the same event as a single retry or cancel, with the operation id in its metadata.',
    body: bulkOperationInputSchema,
    responses: {
      200: { description: 'A dry run: what matches; nothing changed.', schema: bulkDryRunSchema },
      202: { description: 'Started: it runs in the background.', schema: bulkStartedSchema },
      422: { description: 'The filter matches more sagas than one operation may touch.' },
    },
  },
  {
    method: 'GET',
    path: '/api/bulk-operations/{operationId}',
    access: 'viewer',
    tag: 'Incidents',
    summary: 'One bulk operation and its progress',
    params: operationId,
    responses: {
      200: { description: 'The operation.', schema: bulkOperationSchema },
      404: notFound('operation'),
    },
  },
  {
    method: 'POST',
    path: '/api/bulk-operations/{operationId}/cancel',
    access: 'operator',
    tag: 'Incidents',
    summary: 'Stop a running bulk operation',
    description: 'The body (`{ reason? }`) is optional. The batch in flight finishes.',
    params: operationId,
    body: cancelInputSchema,
    bodyOptional: true,
    responses: {
      200: { description: 'Stopped.', schema: bulkOperationSchema },
      404: notFound('operation'),
      409: conflict('The operation has already ended.'),
    },
  },
  {
    method: 'GET',
    path: '/api/alerts',
    access: 'viewer',
    tag: 'Alerts',
    summary: 'Firing alerts (newest first), then the recent history',
    responses: { 200: { description: 'The alerts.', schema: alertsSchema } },
  },
  {
    method: 'GET',
    path: '/api/alerts/deliveries',
    access: 'viewer',
    tag: 'Alerts',
    summary: 'The webhook outbox: undelivered messages first, then recent deliveries',
    responses: { 200: { description: 'The deliveries.', schema: alertDeliveriesSchema } },
  },
  {
    method: 'POST',
    path: '/api/alerts/deliveries/{deliveryId}/retry',
    access: 'operator',
    tag: 'Alerts',
    summary: 'Send an undelivered webhook message again now',
    params: z.object({ deliveryId: z.string().describe('The delivery id (a UUID).') }),
    responses: {
      202: { description: 'Due at once.', schema: alertDeliveryRetriedSchema },
      404: notFound('delivery'),
      409: conflict('The message was delivered already.'),
    },
  },
  {
    method: 'POST',
    path: '/api/alerts/test',
    access: 'admin',
    tag: 'Alerts',
    summary: 'Queue a test alert for every webhook (checks the alert settings)',
    responses: {
      202: { description: 'Queued.', schema: testAlertQueuedSchema },
      409: conflict('No webhook is configured (RXSAGA_ALERT_WEBHOOK_URLS).'),
    },
  },
  {
    method: 'GET',
    path: '/api/audit',
    access: 'viewer',
    tag: 'Audit',
    summary: 'Operator actions and sign-ins, newest first',
    query: auditQuerySchema,
    responses: { 200: { description: 'A page of the audit trail.', schema: auditPageSchema } },
  },
  {
    method: 'GET',
    path: '/api/events/stream',
    access: 'viewer',
    tag: 'Live',
    summary: 'Live changes (Server-Sent Events)',
    description:
      'A `ready` event, then `changes` events whose data is a JSON array of `{ sagaId, types, position }`: what changed, never the data. Comments every 15 s keep the stream open.',
    responses: { 200: { description: 'An event stream.', mediaType: 'text/event-stream' } },
  },
];

/** `GET /api/sagas/{sagaId}`: how tests and messages name one operation. */
export const routeKey = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
