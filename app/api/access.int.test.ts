import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { ACCOUNTS, useApiServer } from '@/test/api-server';
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

describe('roles', () => {
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
    const cookie = await api.signIn(ACCOUNTS.admin.username, ACCOUNTS.admin.password);
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

  test('an operator session writes; a cross-site write with the cookie is refused', async () => {
    const created = await api.request('/api/orders', {
      method: 'POST',
      body: orderInput({ patientId: 'PAT-1001' }),
      as: 'operator',
    });
    assert.equal(created.status, 201);
    for (const headers of [
      { origin: 'https://evil.example' } as Record<string, string>,
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ]) {
      const foreign = await api.request('/api/orders', {
        method: 'POST',
        body: orderInput(),
        as: 'operator',
        headers,
      });
      assert.equal(foreign.status, 403, JSON.stringify(headers));
    }
    const sameSite = await api.request('/api/orders', {
      method: 'POST',
      body: orderInput(),
      as: 'operator',
      headers: { origin: api.baseUrl, 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(sameSite.status, 201);
    assert.equal(await orderCount(), 2);
  });

  test('viewers see patient ids masked; operators and the token see them whole', async () => {
    const { body } = await api.request('/api/sagas?q=PAT-1001', { as: 'operator' });
    const sagaId = body.items[0].sagaId;
    const detail = await api.request(`/api/sagas/${sagaId}`, { as: 'viewer' });
    assert.equal(detail.body.patientId, 'PAT-****01');
    const created = detail.body.events.find((e: { type: string }) => e.type === 'order.created');
    assert.equal(created.payload.patientId, 'PAT-****01');
    assert.equal(created.payload.shippingAddress.line1, '***');
    assert.doesNotMatch(JSON.stringify(detail.body), /PAT-1001/);
    assert.equal(
      (await api.request(`/api/sagas/${sagaId}`, { as: 'operator' })).body.patientId,
      'PAT-1001',
    );
    assert.equal(
      (await api.request(`/api/sagas/${sagaId}`, { as: 'admin' })).body.patientId,
      'PAT-1001',
    );
    assert.equal((await api.request(`/api/sagas/${sagaId}`)).body.patientId, 'PAT-1001');
  });
});

describe('sessions', () => {
  test('sign-in answers { username, role }; the cookie is an opaque id, httpOnly, SameSite=Lax', async () => {
    const res = await fetch(`${api.baseUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'Viewer', password: ACCOUNTS.viewer.password }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { username: 'viewer', role: 'viewer' });
    const setCookie = res.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /SameSite=Lax/i);
    const cookie = setCookie.split(';')[0]!;
    assert.match(cookie, /^rxsaga_session=[A-Za-z0-9_-]{43}$/);
    const who = await api.request('/api/session', { as: 'anonymous', headers: { cookie } });
    assert.deepEqual(who.body, { username: 'viewer', role: 'viewer', via: 'session' });
    // Only the id's hash is stored.
    const [stored] = await api.db.execute<{ n: number }>(
      sql`select count(*)::int as n from sessions where id_hash = ${cookie.split('=')[1]!}`,
    );
    assert.equal(stored!.n, 0);
  });

  test('sign-out is 204 and the very cookie it held is refused from then on', async () => {
    const cookie = await api.signIn(ACCOUNTS.operator.username, ACCOUNTS.operator.password);
    assert.equal(
      (await api.request('/api/sagas', { as: 'anonymous', headers: { cookie } })).status,
      200,
    );
    const out = await fetch(`${api.baseUrl}/api/session`, {
      method: 'DELETE',
      headers: { cookie },
    });
    assert.equal(out.status, 204);
    // A client that keeps the old cookie (a copy, a thief) is refused too.
    assert.equal(
      (await api.request('/api/sagas', { as: 'anonymous', headers: { cookie } })).status,
      401,
    );
    const audit = await api.request('/api/audit?action=session.sign_out');
    assert.equal(audit.body.items[0].actor, 'olga');
  });

  test('idle and absolute timeouts, by the database clock', async () => {
    const idle = await api.signIn(ACCOUNTS.operator.username, ACCOUNTS.operator.password);
    const busy = await api.signIn(ACCOUNTS.operator.username, ACCOUNTS.operator.password);
    const fresh = await api.signIn(ACCOUNTS.operator.username, ACCOUNTS.operator.password);
    const hashOf = (cookie: string) =>
      createHash('sha256').update(cookie.split('=')[1]!).digest('hex');
    // 31 minutes without use (default idle time 30), and 8 hours since sign-in while in use.
    await api.db.execute(
      sql`update sessions set last_seen_at = now() - interval '31 minutes' where id_hash = ${hashOf(idle)}`,
    );
    await api.db.execute(
      sql`update sessions set created_at = now() - interval '8 hours 1 second' where id_hash = ${hashOf(busy)}`,
    );
    const status = async (cookie: string) =>
      (await api.request('/api/sagas', { as: 'anonymous', headers: { cookie } })).status;
    assert.equal(await status(idle), 401);
    assert.equal(await status(busy), 401);
    assert.equal(await status(fresh), 200);
    // Ended sessions are deleted, not just refused.
    const [rows] = await api.db.execute<{ n: number }>(
      sql`select count(*)::int as n from sessions where id_hash in (${hashOf(idle)}, ${hashOf(busy)})`,
    );
    assert.equal(rows!.n, 0);
    // 29 minutes idle is still fine, and using it restarts the idle clock.
    await api.db.execute(
      sql`update sessions set last_seen_at = now() - interval '29 minutes' where id_hash = ${hashOf(fresh)}`,
    );
    assert.equal(await status(fresh), 200);
    const [seen] = await api.db.execute<{ idle: number }>(
      sql`select extract(epoch from now() - last_seen_at)::int as idle from sessions where id_hash = ${hashOf(fresh)}`,
    );
    assert.ok(seen!.idle < 60, `idle ${seen!.idle} s after use`);
  });

  test('a malformed or forged cookie is no session: 401 on the API, the sign-in page in the browser', async () => {
    const forged = [
      'rxsaga_session=garbage',
      `rxsaga_session=${'A'.repeat(43)}`,
      `rxsaga_session=${randomBytes(32).toString('base64url')}`,
      'rxsaga_session=%E0%A4%A',
      `rxsaga_session=${'x'.repeat(4000)}`,
      'rxsaga_session=',
    ];
    for (const cookie of forged) {
      const apiRes = await api.request('/api/sagas', { as: 'anonymous', headers: { cookie } });
      assert.equal(apiRes.status, 401, cookie);
      // The page streams (loading.tsx), so the redirect to sign-in comes inside a 200.
      const page = await fetch(`${api.baseUrl}/sagas`, { headers: { cookie }, redirect: 'manual' });
      const landing =
        page.status === 307 ? (page.headers.get('location') ?? '') : await page.text();
      assert.ok(page.status === 200 || page.status === 307, `${cookie}: ${page.status}`);
      assert.match(landing, /\/sign-in\?next=%2Fsagas/, cookie);
      const signInPage = await fetch(`${api.baseUrl}/sign-in`, { headers: { cookie } });
      assert.equal(signInPage.status, 200, cookie);
      assert.match(await signInPage.text(), /Username/);
    }
  });

  test('after sign-in, ?next= only goes to paths of this app', async () => {
    const cookie = await api.signIn(ACCOUNTS.viewer.username, ACCOUNTS.viewer.password);
    const landing = async (next: string) => {
      const res = await fetch(`${api.baseUrl}/sign-in?next=${next}`, {
        headers: { cookie },
        redirect: 'manual',
      });
      assert.equal(res.status, 307, next);
      return res.headers.get('location');
    };
    for (const hostile of [
      '/%5Cevil.example',
      '//evil.example',
      '/%09/evil.example',
      'https://evil.example',
    ])
      assert.equal(await landing(hostile), '/', hostile);
    assert.equal(await landing('%2Fsagas%3Fstate%3DCOMPLETED'), '/sagas?state=COMPLETED');
  });
});

describe('sign-in', () => {
  test('a wrong name and a wrong password: the same 401; audited with the name as target', async () => {
    const wrongPassword = await api.request('/api/session', {
      method: 'POST',
      body: { username: 'olga', password: 'not-the-password' },
      as: 'anonymous',
    });
    const wrongName = await api.request('/api/session', {
      method: 'POST',
      body: { username: 'mallory', password: ACCOUNTS.operator.password },
      as: 'anonymous',
    });
    assert.equal(wrongPassword.status, 401);
    assert.equal(wrongName.status, 401);
    assert.deepEqual(wrongPassword.body, wrongName.body);
    assert.equal(wrongPassword.headers.get('set-cookie'), null);
    const failed = await api.request('/api/audit?action=session.sign_in_failed');
    assert.deepEqual(
      failed.body.items
        .slice(0, 2)
        .map((i: { actor: string; target: string }) => [i.actor, i.target]),
      [
        ['anonymous', 'mallory'],
        ['anonymous', 'olga'],
      ],
    );
    const body = { username: 'olga' };
    assert.equal(
      (await api.request('/api/session', { method: 'POST', body, as: 'anonymous' })).status,
      400,
    );
  });

  test('login CSRF: a sign-in posted from another site is refused, and sets no cookie', async () => {
    for (const headers of [
      { origin: 'https://evil.example' } as Record<string, string>,
      { 'sec-fetch-site': 'cross-site' },
    ]) {
      const res = await api.request('/api/session', {
        method: 'POST',
        body: ACCOUNTS.viewer,
        as: 'anonymous',
        headers,
      });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal(res.headers.get('set-cookie'), null);
    }
  });

  test('one client failing cannot close sign-in for others, nor escape its lock with X-Forwarded-For', async () => {
    const attacker = '127.0.1.7';
    const guess = (n: number) =>
      api.requestFrom(attacker, '/api/session', {
        method: 'POST',
        body: { username: 'admin', password: `guess-${n}` },
        // A new forwarded address each time: before, each one was a fresh client.
        headers: { 'x-forwarded-for': `203.0.113.${n}` },
      });
    for (let n = 0; n < 5; n++) assert.equal((await guess(n)).status, 401, `guess ${n}`);
    for (let n = 5; n < 25; n++) {
      const locked = await guess(n);
      assert.equal(locked.status, 429, `guess ${n}`);
      const retryAfter = Number(locked.headers.get('retry-after'));
      assert.ok(retryAfter > 880 && retryAfter <= 900, `Retry-After: ${retryAfter}`);
    }
    // Another client, with the admin's password, is not refused because of the attacker.
    const admin = await api.requestFrom('127.0.1.8', '/api/session', {
      method: 'POST',
      body: ACCOUNTS.admin,
    });
    assert.equal(admin.status, 200);
    assert.deepEqual(admin.body, { username: 'admin', role: 'admin' });
    const lockouts = await api.request('/api/audit?action=session.sign_in_locked');
    assert.ok(
      lockouts.body.items.some((i: { target: string }) => i.target === `ip:${attacker}`),
      JSON.stringify(lockouts.body.items),
    );
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
    assert.equal(second.body.items[0].actor, 'api');
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
