import { isIP } from 'node:net';

/**
 * Whether an IP address is private, loopback, link-local or otherwise not a public internet address, where
 * a webhook must not be sent unless the operator allows it (SSRF protection).
 */
export function isNonPublicAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return isNonPublicIpv4(address);
  if (version === 6) {
    // Compared as numbers, not text: `0:0::1` is loopback too, and the URL parser writes `[::ffff:10.0.0.1]`
    // as `::ffff:a00:1`, which a pattern for the dotted form lets through.
    const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = ipv6Groups(address);
    const first96Zero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
    if (first96Zero && g5 === 0xffff) return isNonPublicIpv4(`${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`);
    return (
      (first96Zero && g5 === 0) || // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
      (g0 & 0xfe00) === 0xfc00 || // unique local fc00::/7
      (g0 & 0xffc0) === 0xfe80 || // link-local fe80::/10
      (g0 & 0xff00) === 0xff00 || // multicast
      (g0 === 0x64 && g1 === 0xff9b) || // NAT64 may reach private IPv4
      (g0 === 0x2001 && g1 === 0xdb8) // documentation
    );
  }
  return true;
}

/** The eight 16-bit groups of an address `isIP` calls IPv6, with `::` filled in and a dotted tail read. */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, ''); // a zone, as in fe80::1%eth0
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const groups = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const [head, tail] = text.split('::');
  if (tail === undefined) return groups(head);
  const before = groups(head);
  const after = groups(tail);
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}

function isNonPublicIpv4(address: string): boolean {
  const [a = 0, b = 0] = address.split('.').map(Number);
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224 // multicast and reserved
  );
}

/**
 * Parses a subscription's endpoint: an absolute URL, https unless plain http is allowed.
 * @returns the URL, or `undefined` when it is not acceptable.
 */
export function parseEndpoint(value: unknown, allowHttp: boolean): URL | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) return undefined;
  if (url.username || url.password) return undefined;
  return url;
}
