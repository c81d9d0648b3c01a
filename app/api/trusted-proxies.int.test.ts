import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACCOUNTS, useApiServer } from '@/test/api-server';

/**
 * RXSAGA_TRUSTED_PROXIES against the real app: requests sent from distinct loopback source
 * addresses (127.0.1.x, Node's `localAddress`), so the app sees distinct peers as it would
 * distinct machines. One of them is named as a proxy. X-Forwarded-For is believed from it
 * only: from any other peer, the client is the peer, whatever the header says.
 */

const PROXY = '127.0.1.1';
const api = useApiServer({ worker: false, env: { RXSAGA_TRUSTED_PROXIES: PROXY } });

/** Each test guesses at an account of its own, so one's failures never meet the other's backoff. */
const failFrom = (peer: string, forwardedFor: string, n: number, username = 'admin') =>
  api.requestFrom(peer, '/api/session', {
    method: 'POST',
    body: { username, password: `wrong-guess-${n}` },
    headers: { 'x-forwarded-for': forwardedFor },
  });

async function lockedTargets(): Promise<string[]> {
  const audit = await api.request('/api/audit?action=session.sign_in_locked');
  return audit.body.items.map((i: { target: string }) => i.target);
}

describe('trusted proxies (X-Forwarded-For)', () => {
  test('from a peer that is not a trusted proxy, X-Forwarded-For is ignored: the peer is locked', async () => {
    const peer = '127.0.1.20';
    // A new forwarded address each time: were it believed, each would be a fresh client.
    for (let n = 0; n < 5; n++)
      assert.equal((await failFrom(peer, `198.51.100.${n}`, n)).status, 401, `guess ${n}`);
    const locked = await failFrom(peer, '198.51.100.99', 5);
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    const targets = await lockedTargets();
    assert.ok(targets.includes(`ip:${peer}`), JSON.stringify(targets));
    assert.ok(!targets.some((t) => t.startsWith('ip:198.51.100.')), JSON.stringify(targets));
  });

  test('from the trusted proxy, X-Forwarded-For names the client: one client behind it is locked, not the others', async () => {
    const client = '203.0.113.7';
    for (let n = 0; n < 5; n++)
      assert.equal((await failFrom(PROXY, client, n, 'viewer')).status, 401, `guess ${n}`);
    assert.equal((await failFrom(PROXY, client, 5, 'viewer')).status, 429, 'that client is locked');
    // Another client behind the same proxy is a client of its own: not refused because of the first.
    const other = await api.requestFrom(PROXY, '/api/session', {
      method: 'POST',
      body: ACCOUNTS.admin,
      headers: { 'x-forwarded-for': '203.0.113.8' },
    });
    assert.equal(other.status, 200);
    // The proxy appends; the rightmost address that is not a trusted proxy is the client, so a
    // value the client put in front of its own address changes nothing.
    const spoofed = await failFrom(PROXY, `192.0.2.1, ${client}`, 6, 'viewer');
    assert.equal(spoofed.status, 429);
    const targets = await lockedTargets();
    assert.ok(targets.includes(`ip:${client}`), JSON.stringify(targets));
    assert.ok(!targets.includes(`ip:${PROXY}`), 'the proxy itself is not locked');
  });
});
