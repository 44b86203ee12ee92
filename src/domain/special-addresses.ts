/**
 * The address ranges a webhook may not be sent to: from the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries (RFC 6890 and its updates) and the multicast and reserved blocks. A range the registry calls
 * globally reachable but that no webhook receiver lives in (an anycast service, 6to4 relays) is refused too:
 * refusing costs nothing, and several of them can lead back into a private network. docs/security.md lists them.
 */
export interface AddressRange {
  /** The range in CIDR notation, as the registry writes it. */
  readonly cidr: string;
  /** What the registry calls it. */
  readonly name: string;
}

export const refusedIpv4Ranges: readonly AddressRange[] = [
  { cidr: '0.0.0.0/8', name: '"this network"' },
  { cidr: '10.0.0.0/8', name: 'private use' },
  { cidr: '100.64.0.0/10', name: 'shared address space (carrier-grade NAT)' },
  { cidr: '127.0.0.0/8', name: 'loopback' },
  { cidr: '169.254.0.0/16', name: 'link-local (cloud metadata services)' },
  { cidr: '172.16.0.0/12', name: 'private use' },
  { cidr: '192.0.0.0/24', name: 'IETF protocol assignments (DS-Lite, NAT64 discovery, ...)' },
  { cidr: '192.0.2.0/24', name: 'documentation (TEST-NET-1)' },
  { cidr: '192.88.99.0/24', name: '6to4 relay anycast (deprecated)' },
  { cidr: '192.168.0.0/16', name: 'private use' },
  { cidr: '198.18.0.0/15', name: 'benchmarking' },
  { cidr: '198.51.100.0/24', name: 'documentation (TEST-NET-2)' },
  { cidr: '203.0.113.0/24', name: 'documentation (TEST-NET-3)' },
  { cidr: '224.0.0.0/4', name: 'multicast' },
  { cidr: '240.0.0.0/4', name: 'reserved, and the limited broadcast address' },
];

/**
 * IPv6 ranges whose last 32 bits are an IPv4 address that is what is actually reached: such an address is as
 * public as the IPv4 address it carries. (An IPv6-only network with DNS64 gives every IPv4-only receiver a
 * 64:ff9b:: address, so refusing the whole prefix would refuse every such receiver.)
 */
export const ipv4EmbeddingRanges: readonly AddressRange[] = [
  { cidr: '::ffff:0:0/96', name: 'IPv4-mapped' },
  { cidr: '64:ff9b::/96', name: 'IPv4/IPv6 translation (NAT64 well-known prefix)' },
];

export const refusedIpv6Ranges: readonly AddressRange[] = [
  { cidr: '::/96', name: 'unspecified, loopback and IPv4-compatible (deprecated)' },
  { cidr: '64:ff9b:1::/48', name: 'local-use IPv4/IPv6 translation' },
  { cidr: '100::/64', name: 'discard-only' },
  { cidr: '100:0:0:1::/64', name: 'dummy IPv6 prefix' },
  { cidr: '2001::/23', name: 'IETF protocol assignments (Teredo 2001::/32, benchmarking, ORCHID, ...)' },
  { cidr: '2001:db8::/32', name: 'documentation' },
  { cidr: '2002::/16', name: '6to4 (can embed any IPv4 address, 127.0.0.1 included)' },
  { cidr: '3fff::/20', name: 'documentation' },
  { cidr: '5f00::/16', name: 'segment routing (SRv6) SIDs' },
  { cidr: 'fc00::/7', name: 'unique local' },
  { cidr: 'fe80::/10', name: 'link-local' },
  { cidr: 'fec0::/10', name: 'site-local (deprecated)' },
  { cidr: 'ff00::/8', name: 'multicast' },
];

/** Every other IPv6 address outside global unicast (2000::/3) is unassigned or reserved, and refused too. */
export const globalUnicast: AddressRange = { cidr: '2000::/3', name: 'global unicast' };
