import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  formatWebhookSecret,
  verifyWebhookSignature,
  webhookHeaders,
} from '../../src/domain/webhook-signature.js';

// The example secret of the Standard Webhooks specification.
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const nowSeconds = () => Math.floor(Date.now() / 1000);

const bodies = {
  'an empty object': '{}',
  'a CloudEvent': JSON.stringify({
    specversion: '1.0',
    id: '2f3a1b2c-0000-4000-8000-000000000001',
    source: 'https://platform.altinn.no/ttd/app/instances/1',
    type: 'app.instance.created',
    resource: 'urn:altinn:resource:ttd-app',
    time: '2025-01-01T12:00:00Z',
    data: { amount: 12.5, tags: ['a', 'b'] },
  }),
  'Norwegian letters': JSON.stringify({ subject: 'Søknad om dødsbo for Åse Ærlig' }),
  'emoji outside the BMP': JSON.stringify({ note: 'levert 📦✅ 🇳🇴' }),
  'CJK and right-to-left text': JSON.stringify({ text: '事件 مرحبا' }),
  'escaped unicode and a line break': '{"text":"\\u00e6\\u00f8\\u00e5",\n"n":1}',
};

describe('webhookHeaders', () => {
  it.each(Object.entries(bodies))(
    'signs %s so that the official standardwebhooks library verifies it',
    (_what, body) => {
      const headers = webhookHeaders(secret, id, nowSeconds(), body);
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    },
  );

  it('signs so that the library verifies it under a freshly generated secret', () => {
    const fresh = formatWebhookSecret(randomBytes(32));
    const body = bodies['a CloudEvent'];
    expect(() => new Webhook(fresh).verify(body, webhookHeaders(fresh, id, nowSeconds(), body))).not.toThrow();
  });

  it('gives the library a signature it rejects under another secret', () => {
    const body = bodies['a CloudEvent'];
    const other = formatWebhookSecret(randomBytes(32));
    expect(() => new Webhook(other).verify(body, webhookHeaders(secret, id, nowSeconds(), body))).toThrow();
  });

  it('gives the library a signature it rejects when the body was changed on the way', () => {
    const headers = webhookHeaders(secret, id, nowSeconds(), '{"amount":1}');
    expect(() => new Webhook(secret).verify('{"amount":2}', headers)).toThrow();
  });

  it('sets webhook-id and webhook-timestamp to the message id and the time in whole seconds', () => {
    const headers = webhookHeaders(secret, id, 1_700_000_000, '{}');
    expect(headers['webhook-id']).toBe(id);
    expect(headers['webhook-timestamp']).toBe('1700000000');
  });

  it('signs the HMAC-SHA256 of "id.timestamp.body" under the base64 key after whsec_, as v1,base64', () => {
    const key = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64');
    const expected = createHmac('sha256', key).update(`${id}.1700000000.{"a":"æ"}`, 'utf8').digest('base64');
    expect(webhookHeaders(secret, id, 1_700_000_000, '{"a":"æ"}')['webhook-signature']).toBe(`v1,${expected}`);
  });

  it('signs the same way with or without the whsec_ prefix on the secret', () => {
    expect(webhookHeaders('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', id, 1_700_000_000, '{}')).toEqual(
      webhookHeaders(secret, id, 1_700_000_000, '{}'),
    );
  });

  it('gives the same signature for the same attempt, and a new one for a new timestamp', () => {
    const first = webhookHeaders(secret, id, 1_700_000_000, '{}')['webhook-signature'];
    expect(webhookHeaders(secret, id, 1_700_000_000, '{}')['webhook-signature']).toBe(first);
    expect(webhookHeaders(secret, id, 1_700_000_001, '{}')['webhook-signature']).not.toBe(first);
  });
});

describe('webhookHeaders with several secrets (a rotation\'s grace period)', () => {
  const fresh = formatWebhookSecret(randomBytes(32));
  const body = bodies['a CloudEvent'];

  it('carries one signature per secret, space-separated, in the order given', () => {
    const both = webhookHeaders([fresh, secret], id, 1_700_000_000, body)['webhook-signature'];
    expect(both).toBe(
      `${webhookHeaders(fresh, id, 1_700_000_000, body)['webhook-signature']} ${webhookHeaders(secret, id, 1_700_000_000, body)['webhook-signature']}`,
    );
  });

  it('verifies with either secret in the standardwebhooks library, and with no other', () => {
    const headers = webhookHeaders([fresh, secret], id, nowSeconds(), body);
    expect(new Webhook(fresh).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(formatWebhookSecret(randomBytes(32))).verify(body, headers)).toThrow();
  });
});

describe('verifyWebhookSignature', () => {
  const timestamp = 1_700_000_000;
  const body = bodies['a CloudEvent'];
  const signature = webhookHeaders(secret, id, timestamp, body)['webhook-signature'];
  const otherSignature = webhookHeaders(formatWebhookSecret(randomBytes(32)), id, timestamp, body)[
    'webhook-signature'
  ];

  it('accepts the signature webhookHeaders made', () => {
    expect(verifyWebhookSignature(secret, id, timestamp, body, signature)).toBe(true);
  });

  it.each(Object.entries(bodies))('accepts the signature of %s', (_what, text) => {
    const header = webhookHeaders(secret, id, timestamp, text)['webhook-signature'];
    expect(verifyWebhookSignature(secret, id, timestamp, text, header)).toBe(true);
  });

  it('accepts a correct signature among several space-separated ones, wherever it stands', () => {
    expect(verifyWebhookSignature(secret, id, timestamp, body, `${otherSignature} ${signature}`)).toBe(true);
    expect(verifyWebhookSignature(secret, id, timestamp, body, `${signature} ${otherSignature}`)).toBe(true);
    expect(
      verifyWebhookSignature(secret, id, timestamp, body, `v1a,abc ${otherSignature} ${signature} v2,xyz`),
    ).toBe(true);
  });

  it('rejects a header holding only signatures made under other secrets', () => {
    expect(verifyWebhookSignature(secret, id, timestamp, body, otherSignature)).toBe(false);
    expect(verifyWebhookSignature(secret, id, timestamp, body, `${otherSignature} ${otherSignature}`)).toBe(false);
  });

  it('rejects a signature when the body was tampered with', () => {
    expect(verifyWebhookSignature(secret, id, timestamp, `${body} `, signature)).toBe(false);
    expect(verifyWebhookSignature(secret, id, timestamp, body.replace('12.5', '125'), signature)).toBe(false);
  });

  it('rejects a signature when one unicode character of the body was changed', () => {
    const text = bodies['Norwegian letters'];
    const header = webhookHeaders(secret, id, timestamp, text)['webhook-signature'];
    expect(verifyWebhookSignature(secret, id, timestamp, text.replace('ø', 'o'), header)).toBe(false);
  });

  it('rejects a signature when the message id was tampered with', () => {
    expect(verifyWebhookSignature(secret, `${id}x`, timestamp, body, signature)).toBe(false);
  });

  it('rejects a signature when the timestamp was tampered with', () => {
    expect(verifyWebhookSignature(secret, id, timestamp + 1, body, signature)).toBe(false);
    expect(verifyWebhookSignature(secret, id, timestamp - 300, body, signature)).toBe(false);
  });

  it('rejects a signature without its v1 prefix, or with another version', () => {
    expect(verifyWebhookSignature(secret, id, timestamp, body, signature.slice('v1,'.length))).toBe(false);
    expect(verifyWebhookSignature(secret, id, timestamp, body, signature.replace(/^v1,/, 'v2,'))).toBe(false);
  });

  it('rejects an empty header and a truncated or padded signature', () => {
    expect(verifyWebhookSignature(secret, id, timestamp, body, '')).toBe(false);
    expect(verifyWebhookSignature(secret, id, timestamp, body, signature.slice(0, -1))).toBe(false);
    expect(verifyWebhookSignature(secret, id, timestamp, body, `${signature}=`)).toBe(false);
  });

  it('rejects a correct signature checked under another secret', () => {
    const other = formatWebhookSecret(randomBytes(32));
    expect(verifyWebhookSignature(other, id, timestamp, body, signature)).toBe(false);
  });
});

describe('formatWebhookSecret', () => {
  it('yields whsec_ followed by the key bytes in base64', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const formatted = formatWebhookSecret(key);
    expect(formatted).toBe(`whsec_${Buffer.from(key).toString('base64')}`);
    expect(formatted).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(formatted.slice('whsec_'.length), 'base64')).toEqual(Buffer.from(key));
  });

  it.each([24, 32, 64])('yields a secret the standardwebhooks library accepts, for %i random bytes', (length) => {
    const formatted = formatWebhookSecret(randomBytes(length));
    expect(() => new Webhook(formatted)).not.toThrow();
    const body = '{"ok":true}';
    expect(new Webhook(formatted).verify(body, webhookHeaders(formatted, id, nowSeconds(), body))).toEqual({
      ok: true,
    });
  });

  it('yields different secrets for different keys', () => {
    expect(formatWebhookSecret(randomBytes(32))).not.toBe(formatWebhookSecret(randomBytes(32)));
  });
});
