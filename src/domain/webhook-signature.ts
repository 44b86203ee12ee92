import { createHmac, timingSafeEqual } from 'node:crypto';

const secretPrefix = 'whsec_';

/**
 * A Standard Webhooks signing secret: `whsec_` and the base64 key.
 * @param keyBytes random bytes (24 to 64), from the caller's source of randomness
 */
export function formatWebhookSecret(keyBytes: Uint8Array): string {
  return secretPrefix + Buffer.from(keyBytes).toString('base64');
}

/**
 * The Standard Webhooks headers for one delivery attempt: `webhook-signature` is `v1,` and the base64
 * HMAC-SHA256 of `id.timestamp.body` under the secret's key, so any Standard Webhooks library verifies it.
 * @example webhookHeaders('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', 1_700_000_000, '{}')
 */
export function webhookHeaders(secret: string, messageId: string, timestampSeconds: number, body: string) {
  const key = Buffer.from(
    secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret,
    'base64',
  );
  const signature = createHmac('sha256', key)
    .update(`${messageId}.${timestampSeconds}.${body}`)
    .digest('base64');
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${signature}`,
  };
}

/** Checks a signature header against the secret (for receivers, and Herald's own tests). */
export function verifyWebhookSignature(
  secret: string,
  messageId: string,
  timestampSeconds: number,
  body: string,
  signatureHeader: string,
): boolean {
  const expected = Buffer.from(
    webhookHeaders(secret, messageId, timestampSeconds, body)['webhook-signature'],
  );
  return signatureHeader.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
