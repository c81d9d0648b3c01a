import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { CREDENTIALS, useApiServer } from '@/test/api-server';
import { orderInput } from '@/test/saga-harness';

const api = useApiServer({ worker: false });

const READS = [
  '/api/sagas',
  '/api/stats',
  '/api/catalog',
  '/api/inventory',
  '/api/faults',
  '/api/audit',
  '/api/orders/ORD-x/saga',
];
const WRITES: [string, string, unknown][] = [
  ['POST', '/api/orders', orderInput()],
  ['POST', '/api/sagas/00000000-0000-4000-8000-000000000000/retry', { reason: 'test it' }],
  ['POST', '/api/sagas/00000000-0000-4000-8000-000000000000/cancel', { reason: 'test it' }],
  ['PUT', '/api/inventory/AMOX-500', { onHand: 10 }],
  [
    'PUT',
    '/api/faults',
    { items: [{ task: 'reserve-inventory', failureRate: 0, transientRate: 0, latencyMs: 0 }] },
  ],
];

async function orderCount() {
  const [row] = await api.db.execute<{ n: number }>(sql`select count(*)::int as n from orders`);
  return row!.n;
}

describe('roles and sign-in', () => {
  test('without credentials: reads and writes are 401; health and metrics are open', async () => {
    for (const path of READS)
      assert.equal((await api.request(path, { as: 'anonymous' })).status, 401, path);
    for (const [method, path, body] of WRITES)
      assert.equal((await api.request(path, { method, body, as: 'anonymous' })).status, 401, path);
    assert.equal((await api.request('/api/health', { as: 'anonymous' })).status, 200);
    assert.equal((await api.request('/api/metrics', { as: 'anonymous' })).status, 200);
    assert.equal(await orderCount(), 0);
  });

  test('a wrong bearer token is 401 even with a valid session', async () => {
    const cookie = await api.signIn(CREDENTIALS.RXSAGA_ADMIN_PASSWORD);
    const res = await api.request('/api/sagas', {
      as: 'anonymous',
      headers: { authorization: 'Bearer wrong-token', cookie },
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  });

  test('a viewer reads everything but every write is 403, and stores nothing', async () => {
    for (const path of READS.slice(0, -1))
      assert.equal((await api.request(path, { as: 'viewer' })).status, 200, path);
    for (const [method, path, body] of WRITES)
      assert.equal((await api.request(path, { method, body, as: 'viewer' })).status, 403, path);
    assert.equal(await orderCount(), 0);
  });

  test('an operator session writes; a cross-origin write with the cookie is refused', async () => {
    const created = await api.request('/api/orders', {
      method: 'POST',
      body: orderInput({ patientId: 'PAT-1001' }),
      as: 'operator',
    });
    assert.equal(created.status, 201);
    const foreign = await api.request('/api/orders', {
      method: 'POST',
      body: orderInput(),
      as: 'operator',
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(foreign.status, 403);
    const sameSite = await api.request('/api/orders', {
      method: 'POST',
      body: orderInput(),
      as: 'operator',
      headers: { origin: api.baseUrl },
    });
    assert.equal(sameSite.status, 201);
  });

  test('viewers see patient ids masked; operators and the token see them whole', async () => {
    const { body } = await api.request('/api/sagas?q=PAT-1001', { as: 'viewer' });
    assert.equal(body.items[0].patientId, 'PAT-****01');
    const detail = await api.request(`/api/sagas/${body.items[0].sagaId}`, { as: 'viewer' });
    const created = detail.body.events.find((e: { type: string }) => e.type === 'order.created');
    assert.equal(created.payload.patientId, 'PAT-****01');
    assert.equal(created.payload.shippingAddress.line1, '***');
    assert.doesNotMatch(JSON.stringify(detail.body), /PAT-1001/);
    const asOperator = await api.request(`/api/sagas/${body.items[0].sagaId}`, { as: 'operator' });
    assert.equal(asOperator.body.patientId, 'PAT-1001');
    assert.equal(
      (await api.request(`/api/sagas/${body.items[0].sagaId}`)).body.patientId,
      'PAT-1001',
    );
  });

  test('session cookie: httpOnly, SameSite=Lax; GET /api/session says who; sign-out ends it', async () => {
    const res = await fetch(`${api.baseUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: CREDENTIALS.RXSAGA_VIEWER_PASSWORD, name: 'vera' }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { role: 'viewer', actor: 'vera', via: 'session' });
    const setCookie = res.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /SameSite=Lax/i);
    const cookie = setCookie.split(';')[0]!;
    const who = await api.request('/api/session', { as: 'anonymous', headers: { cookie } });
    assert.equal(who.body.role, 'viewer');
    const out = await fetch(`${api.baseUrl}/api/session`, {
      method: 'DELETE',
      headers: { cookie },
    });
    assert.equal(out.status, 204);
    const cleared = (out.headers.get('set-cookie') ?? '').split(';')[0]!;
    assert.equal(
      (await api.request('/api/sagas', { as: 'anonymous', headers: { cookie: cleared } })).status,
      401,
    );
    const at = cookie.length - 20; // inside the sealed value, before iron-session's version suffix
    const tampered = `${cookie.slice(0, at)}${cookie[at] === 'A' ? 'B' : 'A'}${cookie.slice(at + 1)}`;
    assert.equal(
      (await api.request('/api/sagas', { as: 'anonymous', headers: { cookie: tampered } })).status,
      401,
    );
  });

  test('a wrong password is 401 and audited; sign-ins are audited too', async () => {
    const res = await api.request('/api/session', {
      method: 'POST',
      body: { password: 'not-the-password', name: 'mallory' },
      as: 'anonymous',
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('set-cookie'), null);
    const failed = await api.request('/api/audit?action=session.sign_in_failed');
    assert.equal(failed.body.items[0].actor, 'mallory');
    assert.equal(failed.body.items[0].role, 'anonymous');
    const ok = await api.request('/api/audit?action=session.sign_in');
    assert.ok(
      ok.body.items.some(
        (i: { actor: string; role: string }) => i.actor === 'vera' && i.role === 'viewer',
      ),
    );
    assert.equal(
      (await api.request('/api/session', { method: 'POST', body: {}, as: 'anonymous' })).status,
      400,
    );
  });

  test('five failed sign-ins from one address: 429 with Retry-After, for that address only', async () => {
    const from = (address: string, password: string) =>
      api.request('/api/session', {
        method: 'POST',
        body: { password, name: 'brutus' },
        as: 'anonymous',
        headers: { 'x-forwarded-for': address },
      });
    for (let i = 0; i < 5; i++)
      assert.equal((await from('203.0.113.77', `guess-${i}`)).status, 401);
    for (const password of ['guess-5', CREDENTIALS.RXSAGA_ADMIN_PASSWORD]) {
      const locked = await from('203.0.113.77', password);
      assert.equal(locked.status, 429);
      const retryAfter = Number(locked.headers.get('retry-after'));
      assert.ok(retryAfter > 880 && retryAfter <= 900, `Retry-After: ${retryAfter}`);
      assert.match(locked.body.error, /^too many failed sign-ins from your address: try again in/);
      assert.equal(locked.headers.get('set-cookie'), null);
    }
    // A proxy's own entry counts, not what the client put before it.
    assert.equal((await from('10.1.1.1, 203.0.113.77', 'guess-6')).status, 429);
    const other = await from('203.0.113.78', CREDENTIALS.RXSAGA_ADMIN_PASSWORD);
    assert.equal(other.status, 200);
    const lockouts = await api.request('/api/audit?action=session.sign_in_locked');
    assert.equal(lockouts.body.items.length, 1);
    assert.equal(lockouts.body.items[0].target, 'ip:203.0.113.77');
    assert.equal(lockouts.body.items[0].actor, 'brutus');
  });
});

describe('audit trail and error model', () => {
  test('GET /api/audit pages newest first', async () => {
    for (let i = 0; i < 5; i++) {
      await api.request('/api/inventory/IBU-400', {
        method: 'PUT',
        body: { onHand: 600 + i, reason: `count ${i}` },
      });
    }
    const first = await api.request('/api/audit?action=inventory.set_on_hand&limit=3');
    assert.deepEqual(
      first.body.items.map((i: { reason: string }) => i.reason),
      ['count 4', 'count 3', 'count 2'],
    );
    const second = await api.request(
      `/api/audit?action=inventory.set_on_hand&limit=3&cursor=${first.body.nextCursor}`,
    );
    assert.deepEqual(
      second.body.items.map((i: { reason: string }) => i.reason),
      ['count 1', 'count 0'],
    );
    assert.equal(second.body.nextCursor, null);
    assert.deepEqual(second.body.items[0].before, { onHand: 600, reserved: 0 });
    assert.deepEqual(second.body.items[0].after, { onHand: 601, reserved: 0 });
    assert.equal(second.body.items[0].actor, 'api-token');
    assert.equal((await api.request('/api/audit?action=nope')).status, 400);
  });

  test('security headers on pages and API responses', async () => {
    for (const path of ['/', '/api/health']) {
      const res = await fetch(`${api.baseUrl}${path}`);
      assert.match(
        res.headers.get('content-security-policy') ?? '',
        /frame-ancestors 'none'/,
        path,
      );
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('referrer-policy'), 'strict-origin-when-cross-origin', path);
      assert.equal(res.headers.get('x-powered-by'), null, path);
    }
  });
});
