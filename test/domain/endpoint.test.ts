import { describe, expect, it } from 'vitest';
import { isNonPublicAddress, parseEndpoint } from '../../src/domain/endpoint.js';

/** The host of a URL as the endpoint guard hands it over: the URL parser's spelling, without brackets. */
const hostOf = (url: string) => new URL(url).hostname.replace(/^\[|\]$/g, '');

describe('isNonPublicAddress: IPv4', () => {
  it.each([
    ['this network 0.0.0.0/8', '0.0.0.0'],
    ['this network 0.0.0.0/8, at its end', '0.255.255.255'],
    ['private 10.0.0.0/8', '10.0.0.1'],
    ['private 10.0.0.0/8, at its end', '10.255.255.255'],
    ['carrier-grade NAT 100.64.0.0/10', '100.64.0.1'],
    ['carrier-grade NAT 100.64.0.0/10, at its end', '100.127.255.255'],
    ['loopback 127.0.0.0/8', '127.0.0.1'],
    ['loopback 127.0.0.0/8, elsewhere in it', '127.1.2.3'],
    ['link-local 169.254.0.0/16 (cloud metadata)', '169.254.169.254'],
    ['private 172.16.0.0/12', '172.16.0.1'],
    ['private 172.16.0.0/12, at its end', '172.31.255.255'],
    ['IETF protocol assignments 192.0.0.0/24', '192.0.0.8'],
    ['documentation 192.0.2.0/24', '192.0.2.1'],
    ['private 192.168.0.0/16', '192.168.1.1'],
    ['benchmarking 198.18.0.0/15', '198.18.0.1'],
    ['benchmarking 198.18.0.0/15, at its end', '198.19.255.255'],
    ['multicast 224.0.0.0/4', '224.0.0.1'],
    ['multicast 224.0.0.0/4, at its end', '239.255.255.255'],
    ['reserved 240.0.0.0/4', '240.0.0.1'],
    ['broadcast', '255.255.255.255'],
    ['6to4 relay anycast 192.88.99.0/24', '192.88.99.1'],
    ['documentation 198.51.100.0/24', '198.51.100.1'],
    ['documentation 203.0.113.0/24', '203.0.113.255'],
  ])('calls %s non-public (%s)', (_what, address) => {
    expect(isNonPublicAddress(address)).toBe(true);
  });

  it.each([
    ['a public DNS resolver', '8.8.8.8'],
    ['another', '1.1.1.1'],
    ['the address just below 10.0.0.0/8', '9.255.255.255'],
    ['the address just above 10.0.0.0/8', '11.0.0.0'],
    ['the address just below carrier-grade NAT', '100.63.255.255'],
    ['the address just above carrier-grade NAT', '100.128.0.0'],
    ['the address just below loopback', '126.255.255.255'],
    ['the address just above loopback', '128.0.0.0'],
    ['169.253.x, beside link-local', '169.253.1.1'],
    ['169.255.x, beside link-local', '169.255.1.1'],
    ['the address just below 172.16.0.0/12', '172.15.255.255'],
    ['the address just above 172.16.0.0/12', '172.32.0.0'],
    ['192.169.x, beside 192.168.0.0/16', '192.169.0.1'],
    ['198.17.x, beside benchmarking', '198.17.255.255'],
    ['198.20.x, beside benchmarking', '198.20.0.0'],
    ['the last address below multicast', '223.255.255.255'],
    ['192.0.1.x, between IETF protocol assignments and documentation', '192.0.1.1'],
    ['192.88.98.x, beside 6to4 relay anycast', '192.88.98.1'],
  ])('calls %s public (%s)', (_what, address) => {
    expect(isNonPublicAddress(address)).toBe(false);
  });
});

describe('isNonPublicAddress: IPv6', () => {
  it.each([
    ['the unspecified address', '::'],
    ['loopback', '::1'],
    ['loopback written out in full', '0:0:0:0:0:0:0:1'],
    ['loopback written with leading zeros', '0000:0000:0000:0000:0000:0000:0000:0001'],
    ['loopback compressed in the middle', '0:0:0::0:0:1'],
    ['unique local fc00::/7', 'fc00::1'],
    ['unique local fd00::/8', 'fd12:3456:789a::1'],
    ['unique local in capitals', 'FD00::1'],
    ['unique local at the end of fc00::/7', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['link-local fe80::/10', 'fe80::1'],
    ['link-local at the end of fe80::/10', 'febf:ffff::1'],
    ['link-local with a zone', 'fe80::1%eth0'],
    ['multicast', 'ff02::1'],
    ['IPv4-mapped private', '::ffff:10.0.0.1'],
    ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
    ['IPv4-mapped cloud metadata', '::ffff:169.254.169.254'],
    ['IPv4-mapped private in capitals', '::FFFF:192.168.0.1'],
    ['IPv4-mapped private written in hex', '::ffff:a00:1'],
    ['IPv4-mapped loopback written in hex', '::ffff:7f00:1'],
    ['IPv4-mapped private written out in full', '0:0:0:0:0:ffff:a00:1'],
    ['IPv4-compatible loopback (deprecated)', '::127.0.0.1'],
    ['IPv4-compatible loopback written in hex', '::7f00:1'],
    ['NAT64', '64:ff9b::10.0.0.1'],
    ['NAT64 with leading zeros', '0064:ff9b::a00:1'],
    ['documentation 2001:db8::/32', '2001:db8::1'],
    ['documentation with leading zeros', '2001:0db8::1'],
    ['site-local fec0::/10 (deprecated), just above link-local', 'fec0::1'],
    ['6to4 2002::/16 embedding loopback', '2002:7f00:1::1'],
    ['Teredo 2001::/32', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
    ['IETF protocol assignments 2001::/23, at its end', '2001:1ff:ffff::1'],
    ['discard-only 100::/64', '100::1'],
    ['local-use NAT64 64:ff9b:1::/48', '64:ff9b:1::a00:1'],
    ['NAT64 embedding loopback', '64:ff9b::7f00:1'],
    ['documentation 3fff::/20', '3fff:fff::1'],
    ['SRv6 5f00::/16', '5f00::1'],
    ['unassigned, outside 2000::/3', '4000::1'],
    ['unassigned, just below 2000::/3', '1fff:ffff::1'],
    // Once thought public by a textual check; they are unassigned space outside 2000::/3.
    ['00fc::1, whose text starts with fc but which is not unique local', 'fc::1'],
    ['0fe8::1, whose text starts with fe8 but which is not link-local', 'fe8::1'],
    ['fbff::1, just below unique local', 'fbff::1'],
  ])('calls %s non-public (%s)', (_what, address) => {
    expect(isNonPublicAddress(address)).toBe(true);
  });

  it.each([
    ['a public 2a00:: address', '2a00:1450:4001:82b::200e'],
    ['the start of 2a00::/12', '2a00::'],
    ['a public 2001:4860:: address', '2001:4860:4860::8888'],
    ['IPv4-mapped public', '::ffff:8.8.8.8'],
    ['IPv4-mapped public written in hex', '::ffff:808:808'],
    ['2001:db9::1, beside documentation', '2001:db9::1'],
    ['2001:200::1, just above 2001::/23', '2001:200::1'],
    ['2003::1, just above 6to4', '2003::1'],
    ['3fff:1000::1, just above 3fff::/20', '3fff:1000::1'],
    ['NAT64 embedding a public address', '64:ff9b::808:808'],
  ])('calls %s public (%s)', (_what, address) => {
    expect(isNonPublicAddress(address)).toBe(false);
  });

  it.each([
    ['https://[::ffff:10.0.0.1]/hook'],
    ['https://[::ffff:127.0.0.1]/hook'],
    ['https://[::ffff:169.254.169.254]/hook'],
    ['https://[0:0:0:0:0:0:0:1]/hook'],
    ['https://[::127.0.0.1]/hook'],
    ['https://[64:ff9b::10.0.0.1]/hook'],
    ['https://[FE80::1]/hook'],
  ])('calls the host of %s non-public in the spelling the URL parser gives it', (url) => {
    expect(isNonPublicAddress(hostOf(url))).toBe(true);
  });

  it('calls a public IPv6 host public in the spelling the URL parser gives it', () => {
    expect(isNonPublicAddress(hostOf('https://[2a00:1450:4001:82b:0:0:0:200e]/hook'))).toBe(false);
    expect(isNonPublicAddress(hostOf('https://[::ffff:8.8.8.8]/hook'))).toBe(false);
  });
});

describe('isNonPublicAddress: not an IP address', () => {
  it.each([
    'localhost',
    'example.com',
    '',
    '10.0.0',
    '256.1.1.1',
    '010.0.0.1',
    '::ffff:10.0.0',
    'fe80::1::2',
    'not an address',
  ])('calls %j non-public, so that only addresses proven public pass', (value) => {
    expect(isNonPublicAddress(value)).toBe(true);
  });
});

describe('parseEndpoint', () => {
  it('accepts an https URL and returns it parsed', () => {
    const url = parseEndpoint('https://hooks.example.com:8443/herald?tenant=ttd', false);
    expect(url).toBeInstanceOf(URL);
    expect(url?.href).toBe('https://hooks.example.com:8443/herald?tenant=ttd');
  });

  it('accepts an https URL with an IP address as its host (the guard checks addresses, not this parser)', () => {
    expect(parseEndpoint('https://10.0.0.1/hook', false)?.hostname).toBe('10.0.0.1');
  });

  it('refuses plain http unless http is allowed', () => {
    expect(parseEndpoint('http://hooks.example.com/herald', false)).toBeUndefined();
    expect(parseEndpoint('http://hooks.example.com/herald', true)?.protocol).toBe('http:');
  });

  it.each([
    'ftp://hooks.example.com/x',
    'ws://hooks.example.com/x',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'mailto:a@b.c',
  ])('refuses %s, of another scheme, even when http is allowed', (value) => {
    expect(parseEndpoint(value, true)).toBeUndefined();
  });

  it.each([
    ['a user name and password', 'https://user:secret@hooks.example.com/herald'],
    ['a user name', 'https://user@hooks.example.com/herald'],
    ['an empty user name and a password', 'https://:secret@hooks.example.com/herald'],
  ])('refuses a URL carrying %s', (_what, value) => {
    expect(parseEndpoint(value, false)).toBeUndefined();
    expect(parseEndpoint(value.replace('https:', 'http:'), true)).toBeUndefined();
  });

  it.each(['/hooks/herald', 'hooks/herald', '//hooks.example.com/herald', 'hooks.example.com', '?x=1', '#x'])(
    'refuses the relative URL %j',
    (value) => {
      expect(parseEndpoint(value, true)).toBeUndefined();
    },
  );

  it.each(['', '   ', 'not a url', 'https://', 'https://exa mple.com/'])('refuses %j, which is no URL', (value) => {
    expect(parseEndpoint(value, true)).toBeUndefined();
  });

  it.each([undefined, null, 42, true, {}, ['https://hooks.example.com']])('refuses the non-string %j', (value) => {
    expect(parseEndpoint(value, true)).toBeUndefined();
  });
});
