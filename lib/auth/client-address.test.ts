import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddress, clientKey, parseTrustedProxies } from './client-address';

const none = parseTrustedProxies('')!;
const proxies = parseTrustedProxies('127.0.0.1, 10.0.0.0/8, fd00::/8')!;

describe('client address of a request', () => {
  it('without trusted proxies, the peer: whatever X-Forwarded-For the client sent', () => {
    assert.equal(clientAddress('127.0.0.1', '203.0.113.7', none), '127.0.0.1');
    assert.equal(clientAddress('::ffff:198.51.100.2', '1.1.1.1, 2.2.2.2', none), '198.51.100.2');
    assert.equal(clientAddress('198.51.100.2', null, none), '198.51.100.2');
  });

  it('a peer that is not a trusted proxy is the client, even when proxies are configured', () => {
    assert.equal(clientAddress('203.0.113.9', '10.1.1.1', proxies), '203.0.113.9');
  });

  it('behind trusted proxies: the rightmost forwarded address that is not one of them', () => {
    assert.equal(clientAddress('127.0.0.1', '203.0.113.7', proxies), '203.0.113.7');
    assert.equal(
      clientAddress('10.0.0.2', '1.1.1.1, 203.0.113.7, 10.0.0.5', proxies),
      '203.0.113.7',
    );
    assert.equal(clientAddress('fd00::1', '2001:db8::5', proxies), '2001:db8::5');
    // Only proxies in the chain: the leftmost is as far as we can see.
    assert.equal(clientAddress('127.0.0.1', '10.0.0.3, 10.0.0.4', proxies), '10.0.0.3');
    assert.equal(clientAddress('127.0.0.1', null, proxies), '127.0.0.1');
    // Garbage where a trusted proxy should have written an address: unknown, not a guess.
    assert.equal(clientAddress('127.0.0.1', 'evil, 10.0.0.3', proxies), null);
  });

  it('no peer address (the preload is missing): unknown', () => {
    assert.equal(clientAddress(null, '203.0.113.7', none), null);
    assert.equal(clientAddress('', '203.0.113.7', none), null);
  });

  it('trusted proxies are addresses and CIDR blocks; anything else is refused', () => {
    assert.ok(parseTrustedProxies('192.168.0.0/16,::1'));
    for (const bad of ['10.0.0.0/33', 'proxy.internal', '10.0.0.0/8/1', '::/129', '1.2.3.4/x'])
      assert.equal(parseTrustedProxies(bad), null, bad);
  });
});

describe('client key of an address', () => {
  it('drops ports, zones and the IPv4 mapping of IPv6', () => {
    assert.equal(clientKey('203.0.113.7:51234'), 'ip:203.0.113.7');
    assert.equal(clientKey('::ffff:127.0.0.1'), 'ip:127.0.0.1');
    assert.equal(clientKey('[2001:db8::1]:443'), 'ip:2001:db8:0:0::/64');
    assert.equal(clientKey('fe80::1%eth0'), 'ip:fe80:0:0:0::/64');
  });

  it('counts IPv6 addresses by their /64', () => {
    const a = clientKey('2001:DB8:aa:bb:1:2:3:4');
    assert.equal(a, 'ip:2001:db8:aa:bb::/64');
    assert.equal(clientKey('2001:0db8:00aa:00bb::99'), a);
    assert.equal(clientKey('2001:db8:aa:bb::ffff:1.2.3.4'), a);
    assert.notEqual(clientKey('2001:db8:aa:bc::1'), a);
    assert.equal(clientKey('::1'), 'ip:0:0:0:0::/64');
  });

  it('anything that is not an address shares one key', () => {
    for (const address of [null, undefined, '', 'unknown', 'evil.example', '999.1.1.1'])
      assert.equal(clientKey(address), 'ip:unknown', String(address));
  });
});
