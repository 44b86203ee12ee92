import { isIP } from 'node:net';
import {
  type AddressRange,
  globalUnicast,
  ipv4EmbeddingRanges,
  refusedIpv4Ranges,
  refusedIpv6Ranges,
} from './special-addresses.js';

/**
 * Whether an IP address is private, loopback, link-local or otherwise not a public internet address, where
 * a webhook must not be sent unless the operator allows it (SSRF protection). Anything that is not an IP
 * address is non-public too, so that only addresses proven public pass.
 */
export function isNonPublicAddress(address: string): boolean {
  return nonPublicRangeOf(address) !== undefined;
}

/**
 * The special-purpose range (special-addresses.ts) an address falls in, for operators' logs.
 * @returns the range's CIDR and name, or `undefined` for a public address
 * @example nonPublicRangeOf('2002:7f00:1::1') // '2002::/16 (6to4 …)'
 */
export function nonPublicRangeOf(address: string): string | undefined {
  const version = isIP(address);
  if (version === 4) return ipv4RangeOf(ipv4Number(address));
  if (version !== 6) return 'not an IP address';
  // Compared as numbers, not text: `0:0::1` is loopback too, and the URL parser writes `[::ffff:10.0.0.1]`
  // as `::ffff:a00:1`, which a pattern for the dotted form lets through.
  const value = ipv6Number(address);
  if (ipv4EmbeddingRanges.some((range) => inRange(value, range, 128))) return ipv4RangeOf(value & 0xffffffffn);
  const refused = refusedIpv6Ranges.find((range) => inRange(value, range, 128));
  if (refused) return describe(refused);
  return inRange(value, globalUnicast, 128) ? undefined : 'outside global unicast 2000::/3 (unassigned or reserved)';
}

function ipv4RangeOf(value: bigint): string | undefined {
  const refused = refusedIpv4Ranges.find((range) => inRange(value, range, 32));
  return refused && describe(refused);
}

const describe = (range: AddressRange) => `${range.cidr} (${range.name})`;

/** Ranges parsed once: the network as a number and its prefix length. */
const parsedRanges = new Map<AddressRange, { network: bigint; length: number }>();

function inRange(value: bigint, range: AddressRange, bits: number): boolean {
  let parsed = parsedRanges.get(range);
  if (!parsed) {
    const [network = '', length = ''] = range.cidr.split('/');
    parsed = { network: bits === 32 ? ipv4Number(network) : ipv6Number(network), length: Number(length) };
    parsedRanges.set(range, parsed);
  }
  const shift = BigInt(bits - parsed.length);
  return value >> shift === parsed.network >> shift;
}

function ipv4Number(address: string): bigint {
  return address.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6Number(address: string): bigint {
  return ipv6Groups(address).reduce((value, group) => (value << 16n) | BigInt(group), 0n);
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
