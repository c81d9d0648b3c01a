import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { insertBulkOperation } from '@/db/bulk-operations';
import { buildOpenApiDocument } from '@/server/api/openapi';
import { API_ROUTES, routeKey, type RouteSpec } from '@/server/api/routes';
import { useApiServer, type ApiResponse, type RequestOptions } from '@/test/api-server';
import { orderInput, waitFor, withPostalCode } from '@/test/saga-harness';

/**
 * The OpenAPI document against the real app: every route file under app/api has an entry in
 * server/api/routes.ts (and every entry a route), each route refuses callers its access level
 * excludes, and every answer below — status and body — is one the document lists, with a body
 * valid against its schema. A route added without an entry, or answering what its entry does
 * not say, fails here. How to add one: docs/api.md.
 */

// A webhook nobody listens on (the discard port): a test alert is queued and keeps failing, so
// its delivery can be retried.
// Single sign-on configured with a provider that is not there (the same port): starting a
// sign-on and a callback without one both answer their documented redirect to the sign-in page.
// app/api/sso.int.test.ts runs them against a real provider.
const api = useApiServer({
  env: {
    RXSAGA_ALERT_WEBHOOK_URLS: 'http://127.0.0.1:9/hook',
    RXSAGA_OIDC_ISSUER: 'http://127.0.0.1:9',
    RXSAGA_OIDC_CLIENT_ID: 'rxsaga',
    RXSAGA_OIDC_CLIENT_SECRET: 'openapi-client-secret',
    RXSAGA_OIDC_OPERATOR_VALUES: 'pharmacists',
  },
});
const root = path.resolve(import.meta.dirname, '..', '..');
const document = buildOpenApiDocument();

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema(document, 'openapi');

const pointer = (...segments: string[]) =>
  segments.map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

/** Every (route, status) this file saw, and the routes that answered 2xx at least once. */
const succeeded = new Set<string>();

type Operation = {
  responses: Record<string, { content?: Record<string, unknown> }>;
};

function operationOf(route: RouteSpec): Operation {
  const paths = document.paths as Record<string, Record<string, Operation>>;
  return paths[route.path]![route.method.toLowerCase()]!;
}

/** Asserts the answer is one the document lists for the route, body and media type included. */
function conforms(route: RouteSpec, res: ApiResponse): void {
  const key = routeKey(route);
  const documented = operationOf(route).responses[String(res.status)];
  assert.ok(
    documented,
    `${key} answered ${res.status}, which the document does not list: ${JSON.stringify(res.body)}`,
  );
  const mediaTypes = Object.keys(documented.content ?? {});
  if (mediaTypes.length === 0) {
    assert.equal(res.body, '', `${key} ${res.status} should have no body`);
  } else {
    const contentType = res.headers.get('content-type') ?? '';
    assert.ok(
      mediaTypes.some((m) => contentType.startsWith(m)),
      `${key} ${res.status}: content-type ${contentType}, documented ${mediaTypes.join(', ')}`,
    );
    if (contentType.startsWith('application/json')) {
      const ref = `openapi#/${pointer('paths', route.path, route.method.toLowerCase(), 'responses', String(res.status), 'content', 'application/json', 'schema')}`;
      const validate = ajv.getSchema(ref);
      assert.ok(validate, `no schema at ${ref}`);
      assert.ok(
        validate(res.body),
        `${key} ${res.status} does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body).slice(0, 2000)}`,
      );
    }
  }
  // A redirect is what a redirecting route (single sign-on) answers when it works.
  if (res.status < 400) succeeded.add(key);
}

function spec(method: RouteSpec['method'], routePath: string): RouteSpec {
  const route = API_ROUTES.find((r) => r.method === method && r.path === routePath);
  assert.ok(route, `no registry entry for ${method} ${routePath}`);
  return route;
}

/** Calls a route (path params filled in) and checks the answer against the document. */
async function call(
  method: RouteSpec['method'],
  routePath: string,
  params: Record<string, string> = {},
  options: RequestOptions & { query?: string } = {},
): Promise<ApiResponse> {
  const route = spec(method, routePath);
  const url =
    route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      assert.ok(params[name] !== undefined, `${routeKey(route)}: give a value for {${name}}`);
      return encodeURIComponent(params[name]!);
    }) + (options.query ?? '');
  const res = await api.request(url, { ...options, method });
  conforms(route, res);
  return res;
}

/** Route files under app/api and the methods they export, as OpenAPI paths. */
function routeFiles(): { method: string; path: string }[] {
  const found: { method: string; path: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === 'route.ts') {
        const text = readFileSync(full, 'utf8');
        const urlPath = path
          .relative(path.join(root, 'app'), path.dirname(full))
          .split(path.sep)
          .map((segment) => segment.replace(/^\[(\w+)\]$/, '{$1}'))
          .join('/');
        const exported = text.matchAll(
          /export\s+(?:const|async\s+function|function)\s+(GET|POST|PUT|PATCH|DELETE)\b/g,
        );
        for (const [, method] of exported) found.push({ method: method!, path: `/${urlPath}` });
      }
    }
  };
  walk(path.join(root, 'app', 'api'));
  return found;
}

/** A value for each path parameter name the routes use (add one when a route brings a new name). */
const SAMPLE_PARAMS: Record<string, string> = {
  sagaId: randomUUID(),
  orderId: 'ORD-no-such-order',
  sku: 'AMOX-500',
  task: 'cancel-order',
  operationId: randomUUID(),
  username: 'nobody',
  name: 'no-such-token',
  deliveryId: randomUUID(),
};

describe('the OpenAPI document', () => {
  test('every route file under app/api has an entry, and every entry a route file', () => {
    const files = routeFiles().map(routeKey).sort();
    const entries = API_ROUTES.map(routeKey).sort();
    assert.deepEqual(
      files.filter((k) => !entries.includes(k)),
      [],
      'routes without an entry in server/api/routes.ts',
    );
    assert.deepEqual(
      entries.filter((k) => !files.includes(k)),
      [],
      'entries in server/api/routes.ts without a route',
    );
    assert.equal(new Set(entries).size, entries.length, 'an entry is listed twice');
  });

  test('every operation documents a success: a 2xx, or a 3xx for the redirecting routes', () => {
    const without = API_ROUTES.filter(
      (route) =>
        !Object.keys(operationOf(route).responses).some((status) => /^[23]\d\d$/.test(status)),
    ).map(routeKey);
    assert.deepEqual(without, []);
    const redirecting = API_ROUTES.filter((route) =>
      Object.keys(operationOf(route).responses).some((status) => /^3\d\d$/.test(status)),
    ).map(routeKey);
    // Only the sign-on routes answer with a redirect (Redocly's 2xx rule is off for them).
    assert.deepEqual(redirecting.sort(), [
      'GET /api/session/oidc',
      'GET /api/session/oidc/callback',
    ]);
  });

  test('/api/openapi.json serves the generated document', async () => {
    const res = await call('GET', '/api/openapi.json');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, JSON.parse(JSON.stringify(document)));
    assert.equal(res.body.openapi, '3.1.1');
  });

  test('Redocly lints it without an error or a warning', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rxsaga-openapi-'));
    const file = path.join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document, null, 2));
    const bin = path.join(root, 'node_modules', '.bin', 'redocly');
    const run = await promisify(execFile)(
      bin,
      ['lint', file, '--config', path.join(root, 'redocly.yaml'), '--format', 'json'],
      {
        cwd: dir,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    ).catch((err: { stdout?: string; stderr?: string }) => err);
    const report = JSON.parse(run.stdout ?? '{}') as {
      totals?: { errors: number; warnings: number };
      problems?: { ruleId: string; message: string }[];
    };
    assert.ok(report.totals, `redocly printed no report: ${run.stderr}`);
    assert.deepEqual(
      report.problems?.map((p) => `${p.ruleId}: ${p.message}`),
      [],
      'redocly lint problems',
    );
  });

  test('each route refuses the callers its access excludes (401 anonymous, 403 below its role)', async () => {
    for (const route of API_ROUTES) {
      const params = Object.fromEntries(
        [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => {
          assert.ok(SAMPLE_PARAMS[name!], `add a sample value for {${name}} to SAMPLE_PARAMS`);
          return [name!, SAMPLE_PARAMS[name!]!];
        }),
      );
      const body = route.body ? {} : undefined;
      if (route.access === 'public') {
        // Open: any answer, but only one its entry lists (a 401 only where the entry says so).
        const res = await call(route.method, route.path, params, { as: 'anonymous', body });
        assert.notEqual(res.status, 403, `${routeKey(route)} is public but answered 403`);
        continue;
      }
      const anonymous = await call(route.method, route.path, params, { as: 'anonymous', body });
      assert.equal(anonymous.status, 401, `${routeKey(route)} without credentials`);
      if (route.access !== 'viewer') {
        const viewer = await call(route.method, route.path, params, { as: 'viewer', body });
        assert.equal(viewer.status, 403, `${routeKey(route)} as a viewer`);
      }
      if (route.access === 'admin') {
        const operator = await call(route.method, route.path, params, { as: 'operator', body });
        assert.equal(operator.status, 403, `${routeKey(route)} as an operator`);
      }
    }
  });
});

describe('every route answers as documented', () => {
  let flagged = '';
  /** Another flagged saga, for the bulk operations. */
  let flaggedForBulk = '';
  let completed = { orderId: '', sagaId: '' };

  test('system and session routes', async () => {
    assert.equal((await call('GET', '/api/health')).status, 200);
    const metrics = await call('GET', '/api/metrics', {}, { as: 'anonymous' });
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /rxsaga_sagas_started_total/);

    assert.equal((await call('GET', '/api/session')).status, 200);
    assert.equal((await call('GET', '/api/session', {}, { as: 'anonymous' })).status, 401);
    assert.equal((await call('GET', '/api/session', {}, { as: 'viewer' })).status, 200);
    const signIn = (body: unknown) => call('POST', '/api/session', {}, { as: 'anonymous', body });
    assert.equal((await signIn({ username: 'viewer', password: 'viewer-password-1' })).status, 200);
    assert.equal((await signIn({ username: 'viewer', password: 'not the password' })).status, 401);
    assert.equal((await signIn({ username: 'viewer', password: '' })).status, 400);
    assert.equal((await call('DELETE', '/api/session', {}, { as: 'anonymous' })).status, 204);

    const sso = await call(
      'GET',
      '/api/session/oidc',
      {},
      { as: 'anonymous', query: '?next=/sagas' },
    );
    assert.equal(sso.status, 303);
    assert.equal(sso.headers.get('location'), '/sign-in?sso=unavailable');
    const back = await call(
      'GET',
      '/api/session/oidc/callback',
      {},
      {
        as: 'anonymous',
        query: '?code=x&state=y',
      },
    );
    assert.equal(back.status, 303);
    assert.equal(back.headers.get('location'), '/sign-in?sso=expired');
  });

  test('accounts and tokens', async () => {
    const admin = { as: 'admin' as const };
    assert.equal((await call('GET', '/api/users', {}, admin)).status, 200);
    const account = { username: 'openapi-op', role: 'operator', password: 'openapi-password-1' };
    assert.equal((await call('POST', '/api/users', {}, { ...admin, body: account })).status, 201);
    assert.equal((await call('POST', '/api/users', {}, { ...admin, body: account })).status, 409);
    const patch = (username: string, body: unknown) =>
      call('PATCH', '/api/users/{username}', { username }, { ...admin, body });
    assert.equal((await patch('openapi-op', { displayName: 'Open Api' })).status, 200);
    assert.equal((await patch('nobody', { disabled: true })).status, 404);
    assert.equal((await patch('admin', { role: 'viewer' })).status, 409);
    const own = await api.signIn('openapi-op', 'openapi-password-1');
    const change = await call(
      'PUT',
      '/api/account/password',
      {},
      {
        as: 'anonymous',
        headers: { cookie: own },
        body: { currentPassword: 'openapi-password-1', newPassword: 'openapi-password-2' },
      },
    );
    assert.equal(change.status, 200);
    assert.equal((await call('GET', '/api/tokens', {}, admin)).status, 200);
    const token = { name: 'openapi-token', role: 'viewer' };
    assert.equal((await call('POST', '/api/tokens', {}, { ...admin, body: token })).status, 201);
    assert.equal((await call('POST', '/api/tokens', {}, { ...admin, body: token })).status, 409);
    const revoke = (name: string) => call('DELETE', '/api/tokens/{name}', { name }, admin);
    assert.equal((await revoke('openapi-token')).status, 204);
    assert.equal((await revoke('openapi-token')).status, 404);
  });

  test('orders: created, replayed, refused', async () => {
    const post = (body: unknown, headers: Record<string, string> = {}, rawBody?: string) =>
      call('POST', '/api/orders', {}, { body, headers, rawBody });
    const created = await post(orderInput({ orderId: 'ORD-openapi-1' }), {
      'idempotency-key': 'openapi-1',
    });
    assert.equal(created.status, 201);
    completed = created.body;
    const replay = await post(orderInput({ orderId: 'ORD-openapi-1' }), {
      'idempotency-key': 'openapi-1',
    });
    assert.equal(replay.status, 200);
    const otherBody = await post(orderInput({ orderId: 'ORD-openapi-2' }), {
      'idempotency-key': 'openapi-1',
    });
    assert.equal(otherBody.status, 409);
    assert.equal((await post({ patientId: '' })).status, 400);
    const unknownSku = orderInput({ medications: [{ sku: 'NO-SUCH-SKU', quantity: 1 }] });
    assert.equal((await post(unknownSku)).status, 422);
    const huge = await post(undefined, {}, JSON.stringify({ pad: 'x'.repeat(300 * 1024) }));
    assert.equal(huge.status, 413);

    const stuck = await post(withPostalCode('00504', { orderId: 'ORD-openapi-stuck' }));
    flagged = stuck.body.sagaId;
    const stuckToo = await post(withPostalCode('00504', { orderId: 'ORD-openapi-stuck-2' }));
    flaggedForBulk = stuckToo.body.sagaId;
    for (const sagaId of [flagged, flaggedForBulk]) {
      await waitFor(
        async () => (await api.request(`/api/sagas/${sagaId}`)).body.needsIntervention === true,
        30_000,
        'the 00504 sagas to be flagged',
      );
    }
    await waitFor(
      async () => (await api.request(`/api/sagas/${completed.sagaId}`)).body.state === 'COMPLETED',
      30_000,
      'the first saga to complete',
    );
  });

  test('sagas: list, detail, by order, interventions', async () => {
    assert.equal((await call('GET', '/api/sagas')).status, 200);
    assert.equal((await call('GET', '/api/sagas', {}, { as: 'viewer' })).status, 200);
    const page = await call('GET', '/api/sagas', {}, { query: '?limit=1' });
    assert.ok(page.body.nextCursor);
    const next = `?limit=1&cursor=${encodeURIComponent(page.body.nextCursor)}`;
    assert.equal((await call('GET', '/api/sagas', {}, { query: next })).status, 200);
    assert.equal((await call('GET', '/api/sagas', {}, { query: '?state=NOPE' })).status, 400);
    assert.equal((await call('GET', '/api/sagas', {}, { query: '?cursor=garbage' })).status, 400);

    const detail = '/api/sagas/{sagaId}';
    assert.equal((await call('GET', detail, { sagaId: completed.sagaId })).status, 200);
    assert.equal((await call('GET', detail, { sagaId: flagged }, { as: 'viewer' })).status, 200);
    assert.equal((await call('GET', detail, { sagaId: randomUUID() })).status, 404);

    const byOrder = '/api/orders/{orderId}/saga';
    assert.equal((await call('GET', byOrder, { orderId: completed.orderId })).status, 200);
    assert.equal((await call('GET', byOrder, { orderId: 'ORD-none' })).status, 404);

    const queue = await call('GET', '/api/interventions');
    assert.equal(queue.status, 200);
    assert.ok(queue.body.items.some((s: { sagaId: string }) => s.sagaId === flagged));
  });

  test('operator actions: retry and cancel', async () => {
    const retry = '/api/sagas/{sagaId}/retry';
    const cancel = '/api/sagas/{sagaId}/cancel';
    const reason = { reason: 'checked by the OpenAPI test' };
    assert.equal((await call('POST', retry, { sagaId: flagged }, { body: {} })).status, 400);
    assert.equal(
      (await call('POST', retry, { sagaId: randomUUID() }, { body: reason })).status,
      404,
    );
    assert.equal(
      (await call('POST', retry, { sagaId: completed.sagaId }, { body: reason })).status,
      409,
    );
    assert.equal((await call('POST', retry, { sagaId: flagged }, { body: reason })).status, 202);
    assert.equal(
      (await call('POST', cancel, { sagaId: completed.sagaId }, { body: reason })).status,
      409,
    );
    assert.equal(
      (await call('POST', cancel, { sagaId: randomUUID() }, { body: reason })).status,
      404,
    );
    assert.equal((await call('POST', cancel, { sagaId: flagged }, { body: reason })).status, 202);
  });

  test('incidents: failure groups and bulk operations', async () => {
    const groups = await call('GET', '/api/failure-groups');
    assert.equal(groups.status, 200);
    assert.ok(groups.body.items.length > 0, 'the flagged 00504 saga forms a group');

    const bulk = (body: unknown) => call('POST', '/api/bulk-operations', {}, { body });
    const filter = { sagaIds: [flaggedForBulk] };
    const dryRun = await bulk({ action: 'retry', filter, reason: 'how many?', dryRun: true });
    assert.equal(dryRun.status, 200);
    assert.equal((await bulk({ action: 'retry', filter: {}, reason: 'all of them' })).status, 400);
    const started = await bulk({ action: 'retry', filter, reason: 'checked by the OpenAPI test' });
    assert.equal(started.status, 202);

    const one = '/api/bulk-operations/{operationId}';
    const { operationId } = started.body;
    assert.equal((await call('GET', one, { operationId })).status, 200);
    assert.equal((await call('GET', one, { operationId: randomUUID() })).status, 404);
    assert.equal((await call('GET', '/api/bulk-operations')).status, 200);
    const page = '?limit=0';
    assert.equal((await call('GET', '/api/bulk-operations', {}, { query: page })).status, 400);

    // A running operation whose job no worker has taken yet, as another web instance left it.
    const running = await api.db.transaction((tx) =>
      insertBulkOperation(
        tx,
        { action: 'cancel', reason: 'to be stopped', filter },
        { actor: 'openapi-test', role: 'operator', requestId: null },
        [flaggedForBulk],
      ),
    );
    const stop = '/api/bulk-operations/{operationId}/cancel';
    const body = { reason: 'wrong filter' };
    assert.equal((await call('POST', stop, { operationId: running }, { body })).status, 200);
    assert.equal((await call('POST', stop, { operationId: running }, { body })).status, 409);
    const unknown = { operationId: randomUUID() };
    assert.equal((await call('POST', stop, unknown, { body })).status, 404);
  });

  test('controls: pause and resume a task', async () => {
    const reason = { reason: 'checked by the OpenAPI test' };
    const pause = '/api/tasks/{task}/pause';
    const resume = '/api/tasks/{task}/resume';
    assert.equal(
      (await call('POST', pause, { task: 'cancel-order' }, { body: reason })).status,
      200,
    );
    assert.equal(
      (await call('POST', pause, { task: 'no-such-task' }, { body: reason })).status,
      404,
    );
    assert.equal((await call('POST', pause, { task: 'cancel-order' }, { body: {} })).status, 400);
    const pauses = await call('GET', '/api/pauses');
    assert.deepEqual(
      pauses.body.items.map((p: { task: string }) => p.task),
      ['cancel-order'],
    );
    assert.equal((await call('GET', '/api/tasks')).status, 200);
    assert.equal(
      (await call('POST', resume, { task: 'cancel-order' }, { body: reason })).status,
      200,
    );
    assert.equal(
      (await call('POST', resume, { task: 'no-such-task' }, { body: reason })).status,
      404,
    );
  });

  test('stats, stock, drills, audit', async () => {
    for (const window of ['1h', '24h', '7d', 'all']) {
      assert.equal(
        (await call('GET', '/api/stats', {}, { query: `?window=${window}` })).status,
        200,
      );
    }
    assert.equal((await call('GET', '/api/stats', {}, { query: '?window=2y' })).status, 400);
    assert.equal((await call('GET', '/api/catalog')).status, 200);
    assert.equal((await call('GET', '/api/inventory')).status, 200);

    const stock = '/api/inventory/{sku}';
    assert.equal(
      (await call('PUT', stock, { sku: 'PARA-500' }, { body: { onHand: 700 } })).status,
      200,
    );
    assert.equal((await call('PUT', stock, { sku: 'NOPE' }, { body: { onHand: 1 } })).status, 404);
    assert.equal(
      (await call('PUT', stock, { sku: 'PARA-500' }, { body: { onHand: -1 } })).status,
      400,
    );
    await api.request('/api/orders', {
      method: 'POST',
      body: withPostalCode('00504', { orderId: 'ORD-openapi-held' }),
    });
    await waitFor(
      async () =>
        (await api.request('/api/inventory')).body.items.some(
          (i: { sku: string; reserved: number }) => i.sku === 'AMOX-500' && i.reserved > 0,
        ),
      30_000,
      'a reservation of AMOX-500',
    );
    assert.equal(
      (await call('PUT', stock, { sku: 'AMOX-500' }, { body: { onHand: 0 } })).status,
      409,
    );

    assert.equal((await call('GET', '/api/faults')).status, 200);
    const fault = { task: 'initiate-shipment', failureRate: 0, transientRate: 0, latencyMs: 0 };
    assert.equal((await call('PUT', '/api/faults', {}, { body: { items: [fault] } })).status, 200);
    const tooMuch = { ...fault, failureRate: 2 };
    assert.equal(
      (await call('PUT', '/api/faults', {}, { body: { items: [tooMuch] } })).status,
      400,
    );

    assert.equal((await call('GET', '/api/alerts')).status, 200);
    assert.equal((await call('GET', '/api/alerts/deliveries')).status, 200);
    assert.equal((await call('POST', '/api/alerts/test', {}, { as: 'admin' })).status, 202);
    const queued = (await call('GET', '/api/alerts/deliveries')).body.items as {
      deliveryId: string;
      change: string;
    }[];
    const testDelivery = queued.find((d) => d.change === 'test')!.deliveryId;
    const retryDelivery = '/api/alerts/deliveries/{deliveryId}/retry';
    assert.equal((await call('POST', retryDelivery, { deliveryId: testDelivery })).status, 202);
    assert.equal((await call('POST', retryDelivery, { deliveryId: randomUUID() })).status, 404);
    assert.equal((await call('GET', '/api/audit')).status, 200);
    assert.equal((await call('GET', '/api/audit', {}, { query: '?limit=0' })).status, 400);
  });

  test('the live event stream opens with a ready event', async () => {
    const route = spec('GET', '/api/events/stream');
    const controller = new AbortController();
    const res = await fetch(`${api.baseUrl}${route.path}`, {
      headers: { authorization: 'Bearer test-api-token-0123456789abcdef' },
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    controller.abort();
    conforms(route, { status: res.status, headers: res.headers, body: 'stream' });
    assert.match(new TextDecoder().decode(value), /event: ready/);
  });

  after(() => {
    const missing = API_ROUTES.map(routeKey).filter((k) => !succeeded.has(k));
    assert.deepEqual(
      missing,
      [],
      'routes this file never saw answer 2xx (or 3xx): add a call for each',
    );
  });
});
