import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isNonPublicAddress } from '../domain/endpoint.js';

/**
 * Whether a webhook endpoint may be used: its host must resolve only to public addresses, so subscribers
 * cannot point Herald at its own network (SSRF). A host that does not resolve now is accepted: the
 * validation handshake will fail visibly and be retried.
 * @returns a reason to refuse, or `undefined`
 */
export async function refuseNonPublicEndpoint(endpoint: URL): Promise<string | undefined> {
  const host = endpoint.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      return undefined;
    }
  }
  const blocked = addresses.find(isNonPublicAddress);
  return blocked === undefined
    ? undefined
    : `The endpoint's host resolves to ${blocked}, a private, loopback or link-local address.`;
}
