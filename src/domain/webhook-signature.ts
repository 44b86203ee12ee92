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
 * HMAC-SHA256 of `id.timestamp.body` under the secret's key, so any Standard Webhooks library verifies it. Given
 * several secrets (a rotation's grace period), it carries one signature per secret, space-separated and in the
 * order given, as the specification allows: a receiver holding any one of them verifies the message.
 * @example webhookHeaders('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', 1_700_000_000, '{}')
 */
export function webhookHeaders(secrets: string | readonly string[], messageId: string, timestampSeconds: number, body: string) {
  const signed = `${messageId}.${timestampSeconds}.${body}`;
  const signatures = (typeof secrets === 'string' ? [secrets] : secrets).map((secret) => `v1,${sign(secret, signed)}`);
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signatures.join(' '),
  };
}

function sign(secret: string, content: string): string {
  const key = Buffer.from(secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret, 'base64');
  return createHmac('sha256', key).update(content).digest('base64');
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
