import { isIP } from 'node:net';

/**
 * Whether an IP address is private, loopback, link-local or otherwise not a public internet address, where
 * a webhook must not be sent unless the operator allows it (SSRF protection).
 */
export function isNonPublicAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return isNonPublicIpv4(address);
  if (version === 6) {
    const lower = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped?.[1]) return isNonPublicIpv4(mapped[1]);
    return (
      lower === '::' ||
      lower === '::1' ||
      /^f[cd]/.test(lower) || // unique local fc00::/7
      /^fe[89ab]/.test(lower) || // link-local fe80::/10
      /^ff/.test(lower) || // multicast
      lower.startsWith('64:ff9b:') || // NAT64 may reach private IPv4
      lower.startsWith('2001:db8:') // documentation
    );
  }
  return true;
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
