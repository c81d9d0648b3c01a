import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cameOverHttps, contentSecurityPolicy, newNonce } from './security-headers';

test('scripts need the nonce: no unsafe-inline for scripts, in production or dev', () => {
  for (const dev of [false, true]) {
    const csp = contentSecurityPolicy('abc123', dev);
    const scripts = csp.split('; ').find((d) => d.startsWith('script-src '))!;
    assert.match(scripts, /'nonce-abc123'/);
    assert.match(scripts, /'strict-dynamic'/);
    assert.doesNotMatch(scripts, /unsafe-inline/);
    assert.equal(/unsafe-eval/.test(scripts), dev);
  }
  assert.match(contentSecurityPolicy('n', false), /frame-ancestors 'none'/);
});

test("forms lead to this app only, and to the origins named (the sign-on provider's)", () => {
  const formAction = (csp: string) => csp.split('; ').find((d) => d.startsWith('form-action '));
  assert.equal(formAction(contentSecurityPolicy('n', false)), "form-action 'self'");
  assert.equal(
    formAction(contentSecurityPolicy('n', false, ['https://id.pharmacy.example'])),
    "form-action 'self' https://id.pharmacy.example",
  );
});

test('a nonce is 128 random bits, new every time', () => {
  const nonces = new Set(Array.from({ length: 100 }, newNonce));
  assert.equal(nonces.size, 100);
  for (const n of nonces) assert.equal(Buffer.from(n, 'base64').length, 16);
});

test('HTTPS: our own URL, or the first X-Forwarded-Proto of a proxy', () => {
  const http = new URL('http://127.0.0.1:3000/');
  const over = (proto?: string) =>
    cameOverHttps(http, new Headers(proto ? { 'x-forwarded-proto': proto } : {}));
  assert.equal(over(), false);
  assert.equal(over('http'), false);
  assert.equal(over('https'), true);
  assert.equal(over('HTTPS'), true);
  assert.equal(over('https, http'), true);
  assert.equal(over('http, https'), false);
  assert.equal(cameOverHttps(new URL('https://rx.example/'), new Headers()), true);
});
