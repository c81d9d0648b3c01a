import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { ACCOUNTS, useApiServer } from '@/test/api-server';

const api = useApiServer({ worker: false });

const asAdmin = { as: 'admin' as const };
const user = (username: string, role = 'operator', password = `${username}-password-1`) => ({
  username,
  role,
  password,
});

async function status(cookie: string, path = '/api/sagas') {
  return (await api.request(path, { as: 'anonymous', headers: { cookie } })).status;
}

describe('accounts API', () => {
  test('without RXSAGA_OIDC_ISSUER there is no single sign-on: 404, and no button', async () => {
    const start = await api.request('/api/session/oidc', { as: 'anonymous' });
    assert.equal(start.status, 404);
    assert.equal(start.body.error, 'single sign-on is not configured');
    const back = await api.request('/api/session/oidc/callback?code=x&state=y', {
      as: 'anonymous',
    });
    assert.equal(back.status, 404);
    const page = await api.request('/sign-in', { as: 'anonymous' });
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.body, /Sign in with SSO/);
  });

  test('the Audit page shows the person: display name with the username', async () => {
    const made = await api.request('/api/users', {
      method: 'POST',
      body: { ...user('hanna'), displayName: 'Hanna Huisarts' },
      ...asAdmin,
    });
    assert.equal(made.status, 201);
    await api.signIn('hanna', 'hanna-password-1');
    const page = await api.request('/audit?action=session.sign_in', asAdmin);
    assert.equal(page.status, 200);
    const row = /<tr[^>]*data-action="session.sign_in"[^>]*>.*?<\/tr>/s.exec(page.body)?.[0] ?? '';
    assert.match(row, />Hanna Huisarts<\/span><span[^>]*>hanna<\/span>/);
    // An actor without an account (the API token) is shown as it is recorded.
    await api.request('/api/inventory/IBU-400', { method: 'PUT', body: { onHand: 321 } });
    const tokenRow = await api.request('/audit?action=inventory.set_on_hand', asAdmin);
    assert.match(tokenRow.body, /<span class="[^"]*actor[^"]*">api<\/span>/);
  });

  test('only admins manage accounts: 401 anonymous, 403 viewer, operator and the operator token', async () => {
    for (const as of ['viewer', 'operator', 'token'] as const) {
      assert.equal((await api.request('/api/users', { as })).status, 403, as);
      const post = await api.request('/api/users', { method: 'POST', body: user('x1'), as });
      assert.equal(post.status, 403, as);
    }
    assert.equal((await api.request('/api/users', { as: 'anonymous' })).status, 401);
  });

  test('create, list, 409 when taken, 400 for a short password; every change audited', async () => {
    const created = await api.request('/api/users', {
      method: 'POST',
      body: { ...user('Nora'), displayName: 'Nora Nurse' },
      ...asAdmin,
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.username, 'nora');
    assert.equal(created.body.displayName, 'Nora Nurse');
    assert.equal('passwordHash' in created.body, false);
    const taken = await api.request('/api/users', {
      method: 'POST',
      body: user('nora'),
      ...asAdmin,
    });
    assert.equal(taken.status, 409);
    const short = await api.request('/api/users', {
      method: 'POST',
      body: user('short', 'viewer', 'eleven-char'),
      ...asAdmin,
    });
    assert.equal(short.status, 400);
    assert.deepEqual(short.body.issues[0].path, ['password']);
    for (const body of [user('api'), user('bad name'), { ...user('ok-name'), role: 'root' }, {}])
      assert.equal(
        (await api.request('/api/users', { method: 'POST', body, ...asAdmin })).status,
        400,
        JSON.stringify(body),
      );

    const list = await api.request('/api/users', asAdmin);
    const nora = list.body.items.find((i: { username: string }) => i.username === 'nora');
    assert.deepEqual(Object.keys(nora).sort(), [
      'activeSessions',
      'createdAt',
      'disabled',
      'displayName',
      'lastSignInAt',
      'role',
      'sso',
      'username',
    ]);
    assert.equal(nora.lastSignInAt, null);
    const audit = await api.request('/api/audit?action=account.create');
    assert.equal(audit.body.items[0].actor, 'admin');
    assert.equal(audit.body.items[0].target, 'nora');
    assert.doesNotMatch(JSON.stringify(audit.body), /password-1|\$2[aby]\$/);
  });

  test('disabling an account, or changing its role or password, ends all its sessions at once', async () => {
    await api.request('/api/users', { method: 'POST', body: user('rita'), ...asAdmin });
    const password = 'rita-password-1';
    const patch = (body: unknown) =>
      api.request('/api/users/rita', { method: 'PATCH', body, ...asAdmin });

    const a = await api.signIn('rita', password);
    const b = await api.signIn('rita', password);
    assert.equal(await status(a), 200);
    const listed = await api.request('/api/users', asAdmin);
    assert.equal(
      listed.body.items.find((i: { username: string }) => i.username === 'rita').activeSessions,
      2,
    );
    // A display name is not a reason to sign anyone out.
    assert.equal((await patch({ displayName: 'Rita R.' })).status, 200);
    assert.equal(await status(a), 200);

    const demoted = await patch({ role: 'viewer' });
    assert.equal(demoted.status, 200);
    assert.equal(demoted.body.role, 'viewer');
    assert.equal(await status(a), 401);
    assert.equal(await status(b), 401);

    const c = await api.signIn('rita', password);
    assert.equal((await patch({ password: 'rita-password-2' })).status, 200);
    assert.equal(await status(c), 401);
    await assert.rejects(api.signIn('rita', password), /401/);

    const d = await api.signIn('rita', 'rita-password-2');
    assert.equal((await patch({ disabled: true })).status, 200);
    assert.equal(await status(d), 401);
    await assert.rejects(api.signIn('rita', 'rita-password-2'), /401/);
    assert.equal((await patch({ disabled: false })).status, 200);
    assert.equal(await status(await api.signIn('rita', 'rita-password-2')), 200);

    assert.equal(
      (
        await api.request('/api/users/nobody', {
          method: 'PATCH',
          body: { disabled: true },
          ...asAdmin,
        })
      ).status,
      404,
    );
    assert.equal((await patch({})).status, 400);
    assert.equal((await patch({ password: 'short' })).status, 400);
    const audit = await api.request('/api/audit?target=rita');
    assert.ok(
      audit.body.items.some((i: { reason: string | null }) => i.reason === '1 session(s) revoked'),
    );
  });

  test('the last enabled admin cannot be disabled or demoted; with two, one can', async () => {
    const self = (body: unknown) =>
      api.request('/api/users/admin', { method: 'PATCH', body, ...asAdmin });
    assert.equal((await self({ role: 'operator' })).status, 409);
    assert.equal((await self({ disabled: true })).status, 409);
  });

  test('every account changes its own password with the current one; its sessions end', async () => {
    await api.request('/api/users', { method: 'POST', body: user('carl', 'viewer'), ...asAdmin });
    const other = await api.signIn('carl', 'carl-password-1');
    const mine = await api.signIn('carl', 'carl-password-1');
    const change = (body: unknown) =>
      api.request('/api/account/password', {
        method: 'PUT',
        body,
        as: 'anonymous',
        headers: { cookie: mine },
      });
    const wrong = await change({ currentPassword: 'not-it', newPassword: 'carl-password-2' });
    assert.equal(wrong.status, 400);
    const ok = await change({ currentPassword: 'carl-password-1', newPassword: 'carl-password-2' });
    assert.equal(ok.status, 200);
    assert.equal(await status(other), 401);
    const fresh = (ok.headers.get('set-cookie') ?? '').split(';')[0]!;
    assert.equal(await status(fresh), 200);
    assert.equal(await status(await api.signIn('carl', 'carl-password-2')), 200);
    const token = await api.request('/api/account/password', {
      method: 'PUT',
      body: { currentPassword: 'x', newPassword: 'carl-password-3' },
    });
    assert.equal(token.status, 403);
  });
});

describe('named API tokens', () => {
  test('an admin makes a token, shown once; its name is the actor; revoked, it is refused', async () => {
    const made = await api.request('/api/tokens', {
      method: 'POST',
      body: { name: 'pharmacy-erp', role: 'operator' },
      ...asAdmin,
    });
    assert.equal(made.status, 201);
    assert.match(made.body.token, /^rxs_[A-Za-z0-9_-]{43}$/);
    const auth = { authorization: `Bearer ${made.body.token}` };
    const listed = await api.request('/api/tokens', asAdmin);
    assert.deepEqual(
      listed.body.items.map((t: { name: string }) => t.name),
      ['pharmacy-erp'],
    );
    assert.equal(listed.body.items[0].lastUsedAt, null);
    assert.doesNotMatch(JSON.stringify(listed.body), /rxs_/);
    assert.equal(
      (
        await api.request('/api/tokens', {
          method: 'POST',
          body: { name: 'pharmacy-erp', role: 'viewer' },
          ...asAdmin,
        })
      ).status,
      409,
    );
    assert.equal(
      (
        await api.request('/api/tokens', {
          method: 'POST',
          body: { name: 'nora', role: 'viewer' },
          ...asAdmin,
        })
      ).status,
      409,
    );
    assert.equal((await api.request('/api/tokens', { as: 'operator' })).status, 403);

    const stock = await api.request('/api/inventory/AMOX-500', {
      method: 'PUT',
      body: { onHand: 321, reason: 'counted by the ERP' },
      as: 'anonymous',
      headers: auth,
    });
    assert.equal(stock.status, 200);
    const audit = await api.request('/api/audit?action=inventory.set_on_hand');
    assert.equal(audit.body.items[0].actor, 'pharmacy-erp');
    assert.notEqual((await api.request('/api/tokens', asAdmin)).body.items[0].lastUsedAt, null);
    const who = await api.request('/api/session', { as: 'anonymous', headers: auth });
    assert.deepEqual(who.body, { username: 'pharmacy-erp', role: 'operator', via: 'token' });

    // A viewer token reads and cannot write.
    const viewer = await api.request('/api/tokens', {
      method: 'POST',
      body: { name: 'dashboard-tv', role: 'viewer' },
      ...asAdmin,
    });
    const viewerAuth = { authorization: `Bearer ${viewer.body.token}` };
    assert.equal(
      (await api.request('/api/sagas', { as: 'anonymous', headers: viewerAuth })).status,
      200,
    );
    assert.equal(
      (
        await api.request('/api/inventory/AMOX-500', {
          method: 'PUT',
          body: { onHand: 1 },
          as: 'anonymous',
          headers: viewerAuth,
        })
      ).status,
      403,
    );

    assert.equal(
      (await api.request('/api/tokens/pharmacy-erp', { method: 'DELETE', ...asAdmin })).status,
      204,
    );
    assert.equal((await api.request('/api/sagas', { as: 'anonymous', headers: auth })).status, 401);
    assert.equal(
      (await api.request('/api/tokens/pharmacy-erp', { method: 'DELETE', ...asAdmin })).status,
      404,
    );
    const revoked = await api.request('/api/audit?action=token.revoke');
    assert.equal(revoked.body.items[0].actor, 'admin');
    assert.equal(revoked.body.items[0].target, 'pharmacy-erp');
  });
});

describe('live stream', () => {
  /** Reads the stream until it ends; resolves with what it said. */
  async function openStream(headers: Record<string, string>) {
    const res = await fetch(`${api.baseUrl}/api/events/stream`, { headers });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const ended = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += decoder.decode(value);
      }
    })();
    return {
      ended,
      ready: () => text.includes('event: ready'),
      close: () => reader.cancel(),
    };
  }

  test('the stream of a signed-out session, a revoked token or a disabled account closes', async () => {
    await api.request('/api/users', { method: 'POST', body: user('sam', 'viewer'), ...asAdmin });
    const signedOut = await api.signIn('sam', 'sam-password-1');
    const disabled = await api.signIn('sam', 'sam-password-1');
    const token = await api.request('/api/tokens', {
      method: 'POST',
      body: { name: 'wallboard', role: 'viewer' },
      ...asAdmin,
    });
    const kept = await api.signIn(ACCOUNTS.viewer.username, ACCOUNTS.viewer.password);

    const streams = {
      signedOut: await openStream({ cookie: signedOut }),
      token: await openStream({ authorization: `Bearer ${token.body.token}` }),
      disabled: await openStream({ cookie: disabled }),
      kept: await openStream({ cookie: kept }),
    };
    const closed = new Set<string>();
    for (const [name, s] of Object.entries(streams)) void s.ended.then(() => closed.add(name));

    await fetch(`${api.baseUrl}/api/session`, { method: 'DELETE', headers: { cookie: signedOut } });
    await api.request('/api/tokens/wallboard', { method: 'DELETE', ...asAdmin });
    await Promise.all([streams.signedOut.ended, streams.token.ended]);
    assert.equal(closed.has('disabled'), false);
    await api.request('/api/users/sam', { method: 'PATCH', body: { disabled: true }, ...asAdmin });
    await streams.disabled.ended;
    assert.ok(streams.signedOut.ready() && streams.disabled.ready());
    // The viewer's own stream was not touched by any of it.
    assert.equal(closed.has('kept'), false);
    await streams.kept.close();
  });
});

// Last: whichever admin loses its role here, its sessions (the harness's admin cookie
// included) are gone.
describe('the last admin, under concurrency', () => {
  test('two admins demoting each other at once: one of them stays admin', async () => {
    const own = await api.signIn(ACCOUNTS.admin.username, ACCOUNTS.admin.password);
    await api.request('/api/users', { method: 'POST', body: user('ada', 'admin'), ...asAdmin });
    const ada = await api.signIn('ada', 'ada-password-1');
    const [one, two] = await Promise.all([
      api.request('/api/users/ada', {
        method: 'PATCH',
        body: { role: 'operator' },
        as: 'anonymous',
        headers: { cookie: own },
      }),
      api.request('/api/users/admin', {
        method: 'PATCH',
        body: { role: 'operator' },
        as: 'anonymous',
        headers: { cookie: ada },
      }),
    ]);
    // The loser is refused either way: 409 when its request checked its session before the
    // winner's commit (the last-admin rule), 401 when after (a demotion revokes its sessions).
    const statuses = [one.status, two.status].sort();
    assert.equal(statuses[0], 200);
    assert.ok([401, 409].includes(statuses[1]!), `the loser got ${statuses[1]}`);
    const [left] = await api.db.execute<{ n: number }>(
      sql`select count(*)::int as n from accounts where role = 'admin' and not disabled`,
    );
    assert.equal(left!.n, 1);
  });
});
