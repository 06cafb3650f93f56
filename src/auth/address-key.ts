import { isIP } from 'node:net';

/** The eight 16-bit groups of an IPv6 address (already known valid by isIP), as numbers. */
function ipv6Groups(address: string): number[] {
  // An embedded IPv4 tail (::ffff:192.0.2.1) is written as the two groups it stands for.
  const text = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) =>
    [(+a << 8) | +b, (+c << 8) | +d].map((g) => g.toString(16)).join(':'),
  );
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const [head, rest] = text.split('::');
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The key a client address is counted under by the per-address limits (LoginThrottle and the
 * AUTH_RATE_LIMIT throttler): an IPv4 address as it is; an IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`, as a dual-stack socket reports an IPv4 client) as its IPv4 address; any
 * other IPv6 address as its /64 (`2001:db8:1:2::/64`). A /64 is what one subscriber, one home or
 * one server is given, and it holds 2^64 addresses: counted one by one, an attacker with a single
 * /64 would have unlimited addresses. Anything else (no address, or a proxy's odd header value)
 * is kept as it is, so it still counts as one client.
 */
export function addressKey(address: string | null | undefined): string {
  if (!address) return 'unknown';
  // A zone index (fe80::1%eth0) names the local interface, not the client.
  const bare = address.replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family !== 6) return address;
  const groups = ipv6Groups(bare.toLowerCase());
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
