import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isNonPublicAddress } from '../domain/endpoint.js';

/** Resolves a host name to all of its addresses, as `dns.lookup` with `all: true` does. */
export type ResolveHost = (host: string) => Promise<readonly string[]>;

const resolveWithDns: ResolveHost = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * The reason given for an endpoint whose host is not public. It names no address: the answer must not tell a
 * caller what a name resolves to inside Herald's network (a DNS oracle). It says only what the caller can
 * know anyway from the refusal itself; the address is in no answer and no delivery error.
 */
export const nonPublicEndpointReason =
  "The endpoint's host is not a public internet address, or resolves to one that is not (private, loopback, " +
  'link-local or another special-purpose range); webhooks are sent only to public addresses.';

/**
 * Whether a webhook endpoint may be used: its host must resolve only to public addresses, so subscribers
 * cannot point Herald at its own network (SSRF). A host that does not resolve now is accepted: the
 * validation handshake will fail visibly and be retried (and the sender checks the address again when it
 * connects).
 * @returns a reason to refuse, or `undefined`
 */
export async function refuseNonPublicEndpoint(
  endpoint: URL,
  resolve: ResolveHost = resolveWithDns,
): Promise<string | undefined> {
  const host = endpoint.hostname.replace(/^\[|\]$/g, '');
  let addresses: readonly string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch {
      return undefined;
    }
  }
  return addresses.some(isNonPublicAddress) ? nonPublicEndpointReason : undefined;
}
