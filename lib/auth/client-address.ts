import { BlockList, isIP } from 'node:net';

/**
 * Which client a request comes from, as the key its sign-in failures are counted under.
 *
 * `next start` only fills X-Forwarded-For with the socket's address when the request has none
 * (`??=` in next/dist/server/base-server.js), so a client talking to Next.js directly can put
 * any address there. The socket's address itself is not visible to route handlers; the web
 * process therefore gets scripts/lib/peer-address.mjs preloaded, which writes it into
 * PEER_ADDRESS_HEADER on every request (overwriting whatever the client sent under that name).
 *
 * The rule: the peer is the client, unless the peer is one of the proxies named in
 * RXSAGA_TRUSTED_PROXIES; then X-Forwarded-For is read from the right, skipping trusted proxies,
 * and the first address that is not one is the client. Without trusted proxies (the default)
 * nothing the client sends changes its key.
 *
 * IPv6 addresses count by /64, the block one subscriber usually gets, so rotating addresses
 * within it does not reset the count. Anything that is not an address shares one key.
 */

export const PEER_ADDRESS_HEADER = 'x-rxsaga-peer-address';

/** Addresses and CIDR blocks (`10.0.0.0/8`, `::1`, `fd00::/8`); null when an entry is not one. */
export function parseTrustedProxies(list: string): BlockList | null {
  const blocks = new BlockList();
  for (const raw of list
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [address = '', prefix, extra] = raw.split('/');
    const family = isIP(address);
    if (!family || extra !== undefined) return null;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      blocks.addAddress(address, type);
      continue;
    }
    const bits = Number(prefix);
    if (!/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)) return null;
    blocks.addSubnet(address, bits, type);
  }
  return blocks;
}

const isTrusted = (proxies: BlockList, address: string) =>
  proxies.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');

/** The client's address (normalised) from the peer and X-Forwarded-For, or null when unknown. */
export function clientAddress(
  peer: string | null | undefined,
  forwardedFor: string | null | undefined,
  proxies: BlockList,
): string | null {
  const direct = peer ? bareAddress(peer.trim()) : '';
  if (!isIP(direct)) return null;
  if (!isTrusted(proxies, direct)) return direct;
  const hops = (forwardedFor ?? '')
    .split(',')
    .map((e) => bareAddress(e.trim()))
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!isIP(hop)) return null; // garbage where a proxy should have written: do not guess
    if (!isTrusted(proxies, hop)) return hop;
  }
  return hops[0] ?? direct;
}

/** The key of an address: `ip:1.2.3.4`, `ip:2001:db8:0:1::/64`, or `ip:unknown`. */
export function clientKey(address: string | null | undefined): string {
  const bare = address ? bareAddress(address.trim()) : null;
  if (bare && isIP(bare) === 4) return `ip:${bare}`;
  if (bare && isIP(bare) === 6) return `ip:${ipv6Prefix64(bare)}`;
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
