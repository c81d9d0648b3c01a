import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EnvError, oidcSettingsOf, parseEnv as parseEnvOf } from './env';

const parseEnv = (vars: Record<string, string>) => parseEnvOf(vars as NodeJS.ProcessEnv);

describe('alert settings', () => {
  test("defaults are DESIGN.md's", () => {
    const env = parseEnv({});
    assert.equal(env.RXSAGA_ALERT_INTERVENTIONS, 5);
    assert.equal(env.RXSAGA_ALERT_INTERVENTIONS_FOR_SECONDS, 300);
    assert.equal(env.RXSAGA_ALERT_SUCCESS_RATE, 0.8);
    assert.equal(env.RXSAGA_ALERT_SUCCESS_MIN_FINISHED, 20);
    assert.equal(env.RXSAGA_ALERT_BACKLOG_SECONDS, 120);
    assert.equal(env.RXSAGA_ALERT_EVALUATE_SECONDS, 15);
    assert.deepEqual(env.RXSAGA_ALERT_WEBHOOK_URLS, []);
    assert.equal(env.RXSAGA_ALERT_WEBHOOK_SECRET, undefined);
  });

  test('webhook URLs: comma-separated, trimmed, repeats dropped', () => {
    const env = parseEnv({
      RXSAGA_ALERT_WEBHOOK_URLS:
        ' https://a.example/hook , http://127.0.0.1:9000/x,,https://a.example/hook',
    });
    assert.deepEqual(env.RXSAGA_ALERT_WEBHOOK_URLS, [
      'https://a.example/hook',
      'http://127.0.0.1:9000/x',
    ]);
  });

  for (const [name, value] of [
    ['RXSAGA_ALERT_WEBHOOK_URLS', 'https://ok.example/hook,not a url'],
    ['RXSAGA_ALERT_WEBHOOK_URLS', 'ftp://files.example/x'],
    ['RXSAGA_ALERT_SUCCESS_RATE', '1.5'],
    ['RXSAGA_ALERT_EVALUATE_SECONDS', '0'],
    ['RXSAGA_ALERT_INTERVENTIONS', 'many'],
    ['RXSAGA_ALERT_WEBHOOK_SECRET', 'short'],
  ] as const) {
    test(`a bad ${name} stops start-up naming it (${JSON.stringify(value)})`, () => {
      assert.throws(
        () => parseEnv({ [name]: value }),
        (err: unknown) => {
          assert.ok(err instanceof EnvError);
          assert.match(err.message, new RegExp(`${name}:`));
          return true;
        },
      );
    });
  }

  test('the message does not print a whole webhook URL (it may carry a token)', () => {
    assert.throws(
      () =>
        parseEnv({
          RXSAGA_ALERT_WEBHOOK_URLS: 'mailto:ops-team-secret-token-123456789@example.com',
        }),
      (err: Error) => !err.message.includes('123456789'),
    );
  });
});

describe('web app settings', () => {
  test('RXSAGA_HOST: loopback by default; addresses and host names; anything else names it', () => {
    assert.equal(parseEnv({}).RXSAGA_HOST, '127.0.0.1');
    for (const host of ['0.0.0.0', '::', '::1', '10.1.2.3', 'localhost', 'rx.pharmacy.example'])
      assert.equal(parseEnv({ RXSAGA_HOST: host }).RXSAGA_HOST, host);
    for (const host of ['every interface', 'http://0.0.0.0', '999.1.1.1', 'a..b', ''])
      assert.throws(
        () => parseEnv({ RXSAGA_HOST: host }),
        (e) => {
          assert.ok(e instanceof EnvError);
          assert.match(e.message, /RXSAGA_HOST/);
          return true;
        },
      );
  });

  test('RXSAGA_METRICS_TOKEN: at least 16 characters; the cache time 1–300 s, 15 by default', () => {
    assert.equal(parseEnv({}).RXSAGA_METRICS_CACHE_SECONDS, 15);
    assert.throws(() => parseEnv({ RXSAGA_METRICS_TOKEN: 'short' }), /RXSAGA_METRICS_TOKEN/);
    assert.throws(
      () => parseEnv({ RXSAGA_METRICS_CACHE_SECONDS: '0' }),
      /RXSAGA_METRICS_CACHE_SECONDS/,
    );
  });
});

describe('single sign-on settings', () => {
  const base = {
    RXSAGA_OIDC_ISSUER: 'https://id.pharmacy.example/realms/rx',
    RXSAGA_OIDC_CLIENT_ID: 'rxsaga',
    RXSAGA_OIDC_CLIENT_SECRET: 'client-secret',
    RXSAGA_OIDC_OPERATOR_VALUES: 'pharmacists, ops',
  };

  test('unset: no single sign-on', () => {
    assert.equal(oidcSettingsOf(parseEnv({})), null);
  });

  test('configured: the defaults and the mapping', () => {
    const settings = oidcSettingsOf(parseEnv({ ...base, RXSAGA_OIDC_ADMIN_VALUES: 'admins' }));
    assert.deepEqual(settings, {
      issuer: base.RXSAGA_OIDC_ISSUER,
      clientId: 'rxsaga',
      clientSecret: 'client-secret',
      scopes: ['openid', 'profile', 'email'],
      roleClaim: 'groups',
      roleValues: { admin: ['admins'], operator: ['pharmacists', 'ops'], viewer: [] },
      usernameClaim: 'preferred_username',
      redirectUri: null,
      postLogoutRedirectUri: null,
    });
  });

  test('the callback and post-logout URLs, when the app cannot tell its public address', () => {
    const settings = oidcSettingsOf(
      parseEnv({
        ...base,
        RXSAGA_OIDC_REDIRECT_URI: 'https://rx.pharmacy.example/api/session/oidc/callback',
        RXSAGA_OIDC_POST_LOGOUT_REDIRECT_URI: 'https://rx.pharmacy.example/sign-in',
      }),
    );
    assert.equal(settings?.redirectUri, 'https://rx.pharmacy.example/api/session/oidc/callback');
    assert.equal(settings?.postLogoutRedirectUri, 'https://rx.pharmacy.example/sign-in');
  });

  test('plain http only for a provider on this machine', () => {
    assert.ok(oidcSettingsOf(parseEnv({ ...base, RXSAGA_OIDC_ISSUER: 'http://127.0.0.1:9/' })));
    assert.ok(oidcSettingsOf(parseEnv({ ...base, RXSAGA_OIDC_ISSUER: 'http://localhost:9' })));
  });

  for (const [vars, name] of [
    [{ ...base, RXSAGA_OIDC_ISSUER: 'http://id.pharmacy.example' }, 'RXSAGA_OIDC_ISSUER'],
    [{ ...base, RXSAGA_OIDC_ISSUER: 'https://id.example/?x=1' }, 'RXSAGA_OIDC_ISSUER'],
    [{ ...base, RXSAGA_OIDC_CLIENT_SECRET: undefined }, 'RXSAGA_OIDC_CLIENT_SECRET'],
    [{ RXSAGA_OIDC_CLIENT_ID: 'rxsaga' }, 'RXSAGA_OIDC_CLIENT_ID'],
    [{ ...base, RXSAGA_OIDC_OPERATOR_VALUES: ' , ' }, 'RXSAGA_OIDC_OPERATOR_VALUES'],
    [{ ...base, RXSAGA_OIDC_VIEWER_VALUES: 'ops' }, 'RXSAGA_OIDC_ADMIN_VALUES'],
    [{ ...base, RXSAGA_OIDC_SCOPES: 'profile email' }, 'RXSAGA_OIDC_SCOPES'],
  ] as const) {
    test(`refused, naming ${name}: ${JSON.stringify(vars).slice(0, 90)}`, () => {
      const defined = Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== undefined));
      assert.throws(
        () => parseEnv(defined as Record<string, string>),
        (err: unknown) => err instanceof EnvError && err.message.includes(`${name}:`),
      );
    });
  }
});
