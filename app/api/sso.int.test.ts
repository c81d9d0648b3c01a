import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { oidcSignIns } from '@/db/schema';
import { ACCOUNTS, useApiServer } from '@/test/api-server';
import { testOidcProvider, type Person } from '@/test/oidc-provider';

/**
 * Single sign-on against a real OpenID provider (test/oidc-provider.ts: the `oidc-provider`
 * package on a loopback port) and the real built app: the browser's part is played with
 * fetch, cookie by cookie, the provider's login form submitted as a person would.
 */

const people: Record<string, Person> = {
  'ada-1': { preferred_username: 'Ada', name: 'Ada Admin', groups: ['rx-admins', 'rx-staff'] },
  'otto-1': { preferred_username: 'otto', name: 'Otto Operator', groups: ['rx-pharmacists'] },
  'vera-1': { preferred_username: 'vera', name: 'Vera Viewer', groups: ['rx-staff'] },
  'nemo-1': { preferred_username: 'nemo', name: 'Nemo Nobody', groups: ['marketing'] },
  'dora-1': { preferred_username: 'dora', name: 'Dora Disabled', groups: ['rx-pharmacists'] },
  'rolf-1': { preferred_username: 'rolf', name: 'Rolf Role', groups: ['rx-staff'] },
  'fake-olga': { preferred_username: ACCOUNTS.operator.username, groups: ['rx-admins'] },
  'pia-1': { preferred_username: 'pia', groups: ['rx-pharmacists'] },
  'lea-1': { preferred_username: 'lea', name: 'Lea Last', groups: ['rx-admins'] },
};

const idp = testOidcProvider(people);
const api = useApiServer({
  worker: false,
  env: idp.start,
  started: (server) => idp.registerClient(`${server.baseUrl}/api/session/oidc/callback`),
});
after(idp.stop);

const cookieOf = (res: Response, name: string) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith(`${name}=`) && c.length > name.length + 1);

interface Started {
  /** The browser's attempt cookie (`rxsaga_oidc=…`). */
  cookie: string;
  authorizationUrl: URL;
}

async function start(next?: string): Promise<Started> {
  const query = next === undefined ? '' : `?next=${encodeURIComponent(next)}`;
  const res = await fetch(`${api.baseUrl}/api/session/oidc${query}`, { redirect: 'manual' });
  assert.equal(res.status, 303);
  const cookie = cookieOf(res, 'rxsaga_oidc');
  assert.ok(cookie, 'the attempt cookie is set');
  const authorizationUrl = new URL(res.headers.get('location')!);
  assert.equal(authorizationUrl.origin, idp.issuer);
  return { cookie, authorizationUrl };
}

interface Finished {
  status: number;
  location: string;
  /** The session cookie (`rxsaga_session=…`), when one was set. */
  session: string | undefined;
}

async function callback(url: URL, cookie: string): Promise<Finished> {
  const res = await fetch(url, { redirect: 'manual', headers: { cookie } });
  return {
    status: res.status,
    location: res.headers.get('location') ?? '',
    session: cookieOf(res, 'rxsaga_session'),
  };
}

/** The whole sign-in: the app → the provider (signed in as `login`) → the app's callback. */
async function ssoSignIn(login: string, next?: string): Promise<Finished> {
  const { cookie, authorizationUrl } = await start(next);
  return callback(await idp.signIn(authorizationUrl.href, login), cookie);
}

const whoAmI = (session: string) =>
  api.request('/api/session', { as: 'anonymous', headers: { cookie: session } });

async function attemptRow(cookie: string) {
  const id = cookie.slice('rxsaga_oidc='.length);
  const hash = createHash('sha256').update(id).digest('hex');
  return {
    hash,
    rows: await api.db.select().from(oidcSignIns).where(eq(oidcSignIns.idHash, hash)),
  };
}

async function lastFailure() {
  const audit = await api.request('/api/audit?action=session.sign_in_failed&limit=1');
  return audit.body.items[0] as { actor: string; target: string | null; reason: string };
}

async function account(username: string) {
  const list = await api.request('/api/users', { as: 'admin' });
  return list.body.items.find((a: { username: string }) => a.username === username);
}

describe('single sign-on (OpenID Connect)', () => {
  test('the sign-in page offers "Sign in with SSO", carrying where to go next', async () => {
    const page = await api.request('/sign-in?next=/sagas', { as: 'anonymous' });
    assert.equal(page.status, 200);
    assert.match(page.body, /Sign in with SSO/);
    assert.match(page.body, /href="\/api\/session\/oidc\?next=%2Fsagas"/);
  });

  test('the request to the provider: code flow, PKCE S256 of the stored verifier, state and nonce', async () => {
    const { cookie, authorizationUrl } = await start('/sagas');
    const q = authorizationUrl.searchParams;
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), 'rxsaga-test');
    assert.equal(q.get('redirect_uri'), `${api.baseUrl}/api/session/oidc/callback`);
    assert.equal(q.get('scope'), 'openid profile email groups');
    assert.equal(q.get('code_challenge_method'), 'S256');
    const { rows } = await attemptRow(cookie);
    assert.equal(rows.length, 1, 'the attempt is kept on the server');
    const stored = rows[0]!;
    assert.equal(q.get('state'), stored.state);
    assert.equal(q.get('nonce'), stored.nonce);
    const challenge = createHash('sha256').update(stored.codeVerifier).digest('base64url');
    assert.equal(q.get('code_challenge'), challenge);
    assert.equal(stored.returnTo, '/sagas');
    assert.ok(!authorizationUrl.href.includes(stored.codeVerifier), 'the verifier stays here');
  });

  for (const [login, username, role, displayName] of [
    ['ada-1', 'ada', 'admin', 'Ada Admin'],
    ['otto-1', 'otto', 'operator', 'Otto Operator'],
    ['vera-1', 'vera', 'viewer', 'Vera Viewer'],
  ] as const) {
    test(`a person in the ${role} group signs in as ${role}: an SSO account without a password`, async () => {
      const done = await ssoSignIn(login, '/sagas?state=PENDING_SHIPMENT');
      assert.equal(done.status, 303);
      assert.equal(done.location, '/sagas?state=PENDING_SHIPMENT');
      assert.ok(done.session, 'a session cookie is set');
      const me = await whoAmI(done.session);
      assert.deepEqual(me.body, { username, role, via: 'session' });
      const listed = await account(username);
      assert.equal(listed.sso, true);
      assert.equal(listed.role, role);
      assert.equal(listed.displayName, displayName);
      assert.ok(listed.lastSignInAt);
      const [row] = await api.db.execute<{ password_hash: string | null; sso_subject: string }>(
        sql`select password_hash, sso_subject from accounts where username = ${username}`,
      );
      assert.equal(row!.password_hash, null);
      assert.equal(row!.sso_subject, `${idp.issuer} ${login}`);
    });
  }

  test('the session works on the API; the sign-in and what the person does are audited under the username', async () => {
    const done = await ssoSignIn('otto-1');
    assert.equal(done.location, '/');
    const cookie = done.session!;
    const sagas = await api.request('/api/sagas', { as: 'anonymous', headers: { cookie } });
    assert.equal(sagas.status, 200);
    const stock = await api.request('/api/inventory/ATOR-20', {
      method: 'PUT',
      as: 'anonymous',
      headers: { cookie },
      body: { onHand: 41 },
    });
    assert.equal(stock.status, 200);
    const change = await api.request('/api/audit?action=inventory.set_on_hand&limit=1');
    assert.equal(change.body.items[0].actor, 'otto');
    assert.equal(change.body.items[0].role, 'operator');
    const signIns = await api.request('/api/audit?action=session.sign_in');
    const otto = signIns.body.items.find((i: { actor: string }) => i.actor === 'otto');
    assert.ok(otto, 'the sign-in is audited under the username');
    assert.equal(otto.reason, 'single sign-on');
    assert.equal(otto.role, 'operator');
    const created = await api.request('/api/audit?action=account.create&target=otto');
    assert.equal(created.body.items[0].actor, 'otto');
    assert.equal(created.body.items[0].reason, 'single sign-on: first sign-in');
    // Signing out ends it like any session.
    const out = await api.request('/api/session', {
      method: 'DELETE',
      as: 'anonymous',
      headers: { cookie },
    });
    assert.equal(out.status, 204);
    assert.equal((await whoAmI(cookie)).status, 401);
  });

  test('state: an answer whose state differs is refused, and the attempt is used up', async () => {
    const { cookie, authorizationUrl } = await start();
    const answer = await idp.signIn(authorizationUrl.href, 'vera-1');
    const forged = new URL(answer);
    forged.searchParams.set('state', 'not-the-state');
    const refused = await callback(forged, cookie);
    assert.equal(refused.status, 303);
    assert.equal(refused.location, '/sign-in?sso=rejected');
    assert.equal(refused.session, undefined);
    assert.match((await lastFailure()).reason, /single sign-on: .*state/i);
    // The genuine answer, replayed after that, finds no attempt: one use only.
    const replay = await callback(answer, cookie);
    assert.equal(replay.location, '/sign-in?sso=expired');
    assert.equal(replay.session, undefined);
  });

  test("login CSRF: another browser's answer (its code and state) does not sign this browser in", async () => {
    const victim = await start();
    const attacker = await start();
    const attackersAnswer = await idp.signIn(attacker.authorizationUrl.href, 'ada-1');
    const res = await callback(attackersAnswer, victim.cookie);
    assert.equal(res.location, '/sign-in?sso=rejected');
    assert.equal(res.session, undefined);
    const noCookie = await callback(attackersAnswer, '');
    assert.equal(noCookie.location, '/sign-in?sso=expired');
  });

  test('nonce: an ID token issued for another nonce is refused', async () => {
    const { cookie, authorizationUrl } = await start();
    const { hash } = await attemptRow(cookie);
    // What the app expects now differs from the nonce the provider puts into the ID token.
    await api.db
      .update(oidcSignIns)
      .set({ nonce: 'another-nonce' })
      .where(eq(oidcSignIns.idHash, hash));
    const res = await callback(await idp.signIn(authorizationUrl.href, 'vera-1'), cookie);
    assert.equal(res.location, '/sign-in?sso=rejected');
    assert.equal(res.session, undefined);
    assert.match((await lastFailure()).reason, /nonce/);
  });

  test('PKCE: the provider refuses to exchange the code without the verifier it was issued for', async () => {
    const { cookie, authorizationUrl } = await start();
    const { hash } = await attemptRow(cookie);
    await api.db
      .update(oidcSignIns)
      .set({ codeVerifier: 'a'.repeat(64) })
      .where(eq(oidcSignIns.idHash, hash));
    const res = await callback(await idp.signIn(authorizationUrl.href, 'vera-1'), cookie);
    assert.equal(res.location, '/sign-in?sso=rejected');
    assert.equal(res.session, undefined);
    assert.match((await lastFailure()).reason, /refused the code: invalid_grant/);
  });

  test('no value of the role claim maps to a role: refused with a clear message, no account made', async () => {
    const res = await ssoSignIn('nemo-1');
    assert.equal(res.location, '/sign-in?sso=no_role');
    assert.equal(res.session, undefined);
    assert.equal(await account('nemo'), undefined);
    const failure = await lastFailure();
    assert.equal(failure.actor, 'anonymous');
    assert.equal(failure.target, 'nemo');
    assert.match(failure.reason, /no role for you here: your "groups" has none of the values/);
    const page = await api.request('/sign-in?sso=no_role', { as: 'anonymous' });
    assert.match(page.body, /Your sign-on account has no role in RxSaga/);
  });

  test('disabling an SSO account ends its sessions and refuses its next sign-on', async () => {
    const first = await ssoSignIn('dora-1');
    assert.equal((await whoAmI(first.session!)).status, 200);
    const disable = await api.request('/api/users/dora', {
      method: 'PATCH',
      as: 'admin',
      body: { disabled: true },
    });
    assert.equal(disable.status, 200);
    assert.equal((await whoAmI(first.session!)).status, 401);
    const again = await ssoSignIn('dora-1');
    assert.equal(again.location, '/sign-in?sso=disabled');
    assert.equal(again.session, undefined);
    assert.match((await lastFailure()).reason, /the account "dora" is disabled/);
    const page = await api.request('/sign-in?sso=disabled', { as: 'anonymous' });
    assert.match(page.body, /Your account is disabled/);
  });

  test("the provider's groups decide the role at each sign-on; a changed role ends the older sessions", async () => {
    const asViewer = await ssoSignIn('rolf-1');
    assert.equal((await whoAmI(asViewer.session!)).body.role, 'viewer');
    people['rolf-1']!.groups = ['rx-pharmacists'];
    const asOperator = await ssoSignIn('rolf-1');
    assert.equal((await whoAmI(asOperator.session!)).body.role, 'operator');
    assert.equal((await whoAmI(asViewer.session!)).status, 401, 'the viewer session ended');
    const update = await api.request('/api/audit?action=account.update&target=rolf');
    assert.deepEqual(update.body.items[0].before.role, 'viewer');
    assert.deepEqual(update.body.items[0].after.role, 'operator');
  });

  test('the groups of the last enabled admin no longer say admin: refused, the admin stays', async () => {
    const asAdmin = await ssoSignIn('lea-1');
    assert.equal((await whoAmI(asAdmin.session!)).body.role, 'admin');
    // Every other admin disabled behind the app's back (and enabled again below): lea is the last.
    const others = await api.db.execute<{ id: number }>(
      sql`update accounts set disabled = true where role = 'admin' and not disabled and username <> 'lea' returning id`,
    );
    try {
      people['lea-1']!.groups = ['rx-staff'];
      const demoted = await ssoSignIn('lea-1');
      assert.equal(demoted.location, '/sign-in?sso=last_admin');
      assert.equal(demoted.session, undefined);
      assert.equal((await whoAmI(asAdmin.session!)).body.role, 'admin', 'her session goes on');
      assert.match((await lastFailure()).reason, /the last enabled admin/);
    } finally {
      const ids = others.map((r) => r.id);
      if (ids.length > 0)
        await api.db.execute(
          sql`update accounts set disabled = false where id in (${sql.join(
            ids.map((id) => sql`${id}`),
            sql`, `,
          )})`,
        );
    }
    assert.equal((await account('lea'))?.role, 'admin');
  });

  test("an SSO username that is a password account's is refused: no takeover of olga", async () => {
    const res = await ssoSignIn('fake-olga');
    assert.equal(res.location, '/sign-in?sso=username_taken');
    assert.equal(res.session, undefined);
    const olga = await account(ACCOUNTS.operator.username);
    assert.equal(olga.sso, false);
    assert.equal(olga.role, 'operator');
  });

  test('an SSO account has no password: password sign-in, own change and reset are refused', async () => {
    const done = await ssoSignIn('pia-1');
    const cookie = done.session!;
    for (const password of ['', 'any password at all', 'null'])
      assert.notEqual(
        (
          await api.request('/api/session', {
            method: 'POST',
            as: 'anonymous',
            body: { username: 'pia', password },
          })
        ).status,
        200,
      );
    const own = await api.request('/api/account/password', {
      method: 'PUT',
      as: 'anonymous',
      headers: { cookie },
      body: { currentPassword: 'anything', newPassword: 'a-brand-new-password' },
    });
    assert.equal(own.status, 409);
    assert.match(own.body.error, /single sign-on/);
    const reset = await api.request('/api/users/pia', {
      method: 'PATCH',
      as: 'admin',
      body: { password: 'a-brand-new-password' },
    });
    assert.equal(reset.status, 409);
  });

  test('after signing in, only paths of this app: next=//evil.example lands on the overview', async () => {
    for (const next of ['//evil.example', '/\\evil.example', 'https://evil.example/'])
      assert.equal((await ssoSignIn('vera-1', next)).location, '/', next);
  });

  test('a person who stops at the provider (access denied) is sent back with a message', async () => {
    const { cookie, authorizationUrl } = await start();
    const denied = new URL(`${api.baseUrl}/api/session/oidc/callback`);
    denied.searchParams.set('error', 'access_denied');
    denied.searchParams.set('state', authorizationUrl.searchParams.get('state')!);
    denied.searchParams.set('iss', idp.issuer);
    const res = await callback(denied, cookie);
    assert.equal(res.location, '/sign-in?sso=denied');
    assert.match((await lastFailure()).reason, /did not sign you in: access_denied/);
  });
});
