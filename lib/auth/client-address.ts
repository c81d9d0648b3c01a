import { isIP } from 'node:net';

/**
 * Which client a sign-in attempt comes from, as the key its failures are counted under. Read
 * from X-Forwarded-For, counting `proxyHops` entries from the right: the left part of the header
 * is whatever the client sent, only the entries appended by our own proxies can be trusted.
 * Without any proxy, `next start` sets the header to the socket's address when the request has
 * none (so 1 hop covers "no proxy" and "one proxy that appends"); a client talking to Next.js
 * directly can still send its own, which is what the global limit of sign-in is for.
 *
 * IPv6 addresses count by /64, the block one subscriber usually gets, so rotating addresses
 * within it does not reset the count. Anything that is not an address shares one key.
 */

export function clientKey(forwardedFor: string | null | undefined, proxyHops = 1): string {
  const entries = (forwardedFor ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const entry = entries[Math.max(0, entries.length - Math.max(1, proxyHops))];
  const address = entry ? bareAddress(entry) : null;
  if (address && isIP(address) === 4) return `ip:${address}`;
  if (address && isIP(address) === 6) return `ip:${ipv6Prefix64(address)}`;
  return 'ip:unknown';
}

/** Drops a port (`1.2.3.4:5678`, `[::1]:5678`), a zone (`fe80::1%eth0`) and the IPv4 mapping. */
function bareAddress(entry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry);
  const address = (bracketed?.[1] ?? withPort?.[1] ?? entry).replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  return mapped ? mapped[1]! : address;
}

/** The first four groups of a valid IPv6 address, normalised: `2001:db8:0:1::/64`. */
function ipv6Prefix64(address: string): string {
  // An embedded IPv4 tail (`::1.2.3.4`) fills the last two groups.
  const groups = (part: string) =>
    part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : [];
  const [head = '', tail] = address.split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
