// Standard Webhooks verification (https://www.standardwebhooks.com) with Web Crypto only, so it runs in
// browsers, Node 20+, Deno and workers alike.

/** Request headers as a `Headers` object or a plain record (Node's `IncomingHttpHeaders`). */
export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/** What a verified request carried. */
export interface VerifiedWebhook {
  /** `webhook-id`: the same on every retry of a delivery; deduplicate on it. */
  readonly id: string;
  /** `webhook-timestamp`, seconds since the epoch: when this attempt was signed. */
  readonly timestamp: number;
}

export interface VerifyOptions {
  /** How far the timestamp may be from now, in seconds, either way. Default 300 (Standard Webhooks' five minutes). */
  readonly toleranceSeconds?: number;
  /** The time to judge the timestamp against, in milliseconds. Default now. */
  readonly now?: number;
}

/** The request is not Herald's, was altered, or is stale: answer it 401 and do not act on it. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

const encoder = new TextEncoder();

/**
 * Checks a delivery's `webhook-signature` (HMAC-SHA256 of `id.timestamp.body`) against a `whsec_` secret, or
 * against several (during a rotation hold the old and the new). Any one matching signature of the
 * space-separated `v1,…` list is enough: while a rotation's grace period lasts Herald signs with both secrets.
 *
 * `rawBody` must be the bytes as received. A string is accepted only if it was decoded from all the bytes
 * at once: decoding chunk by chunk breaks characters split between chunks, and the signature with them.
 * @throws WebhookVerificationError
 */
export async function verifyWebhook(
  rawBody: Uint8Array | ArrayBuffer | string,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: VerifyOptions = {},
): Promise<VerifiedWebhook> {
  const id = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestampText || !signatures) throw new WebhookVerificationError('Missing webhook-id, webhook-timestamp or webhook-signature header.');
  if (!/^\d{1,15}$/.test(timestampText)) throw new WebhookVerificationError('webhook-timestamp is not a number of seconds.');
  const timestamp = Number(timestampText);
  const tolerance = options.toleranceSeconds ?? 300;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - timestamp) > tolerance) {
    throw new WebhookVerificationError(`webhook-timestamp is ${now - timestamp} s from now, beyond the ${tolerance} s tolerance (a replayed or delayed request, or a wrong clock).`);
  }
  const body = typeof rawBody === 'string' ? encoder.encode(rawBody) : rawBody instanceof Uint8Array ? rawBody : new Uint8Array(rawBody);
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  const given = signatures
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => fromBase64(entry.slice(3)))
    .filter((bytes) => bytes !== undefined);
  for (const key of typeof secret === 'string' ? [secret] : secret) {
    const hmac = await crypto.subtle.importKey('raw', secretBytes(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    // subtle.verify compares in constant time.
    for (const signature of given) if (await crypto.subtle.verify('HMAC', hmac, signature, signed)) return { id, timestamp };
  }
  throw new WebhookVerificationError('No webhook-signature matches the secret: the body was altered, or the secret is not this subscription\'s.');
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | readonly string[] | undefined>;
  const value = record[name] ?? Object.entries(record).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value.join(' ') : (value as string | undefined);
}

/** A `whsec_` secret's key bytes: base64 after the prefix (Standard Webhooks). */
function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  const bytes = fromBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
  if (!bytes) throw new WebhookVerificationError('The secret is not a whsec_ secret (base64 after the prefix).');
  return bytes;
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}
