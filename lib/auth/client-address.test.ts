import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientKey } from './client-address';

describe('client key of a sign-in attempt', () => {
  it('is the last X-Forwarded-For entry: the one our proxy (or Next.js) appended', () => {
    assert.equal(clientKey('203.0.113.7'), 'ip:203.0.113.7');
    assert.equal(clientKey('10.9.9.9, 198.51.100.2'), 'ip:198.51.100.2');
    assert.equal(clientKey(' 10.9.9.9 ,198.51.100.2 , '), 'ip:198.51.100.2');
  });

  it('counts proxy hops from the right, and takes the leftmost when there are fewer', () => {
    assert.equal(clientKey('1.1.1.1, 203.0.113.7, 10.0.0.2', 2), 'ip:203.0.113.7');
    assert.equal(clientKey('203.0.113.7', 3), 'ip:203.0.113.7');
  });

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
    for (const header of [null, undefined, '', ' , ', 'unknown', 'evil.example', '999.1.1.1'])
      assert.equal(clientKey(header), 'ip:unknown', String(header));
  });
});
