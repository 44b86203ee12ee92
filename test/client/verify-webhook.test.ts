import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { describe, expect, it } from 'vitest';
import { batchesOf, verifyWebhook, WebhookVerificationError } from '../../packages/client/src/index.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const other = 'whsec_dGhlLW90aGVyLXNlY3JldC1vZi1hLXJvdGF0aW9u';
const body = new TextEncoder().encode('{"specversion":"1.0","id":"1","data":"blåbær 🦆"}');

function signed(by: string[], at = new Date()): Record<string, string> {
  const id = 'msg_1042';
  const signatures = by.map((key) => new StandardWebhook(key).sign(id, at, Buffer.from(body)));
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signatures.join(' ') };
}

describe('verifyWebhook (Web Crypto) agrees with standardwebhooks and svix', () => {
  it('accepts what the libraries sign, from a record or a Headers object', async () => {
    const headers = signed([secret]);
    expect(await verifyWebhook(body, headers, secret)).toEqual({ id: 'msg_1042', timestamp: Number(headers['webhook-timestamp']) });
    expect(await verifyWebhook(body.buffer as ArrayBuffer, new Headers(headers), secret)).toMatchObject({ id: 'msg_1042' });
    expect(() => new SvixWebhook(secret).verify(Buffer.from(body), headers)).not.toThrow();
  });

  it('accepts two signatures (a rotation) with either secret, or with both given', async () => {
    const headers = signed([other, secret]);
    await expect(verifyWebhook(body, headers, secret)).resolves.toBeDefined();
    await expect(verifyWebhook(body, headers, other)).resolves.toBeDefined();
    await expect(verifyWebhook(body, signed([secret]), [other, secret])).resolves.toBeDefined();
    expect(() => new StandardWebhook(other).verify(Buffer.from(body), headers)).not.toThrow();
  });

  it('refuses an altered body, another secret, a stale or future timestamp, and missing headers, as the libraries do', async () => {
    const headers = signed([secret]);
    const altered = Uint8Array.from(body);
    altered[5] = altered[5]! ^ 1;
    await expect(verifyWebhook(altered, headers, secret)).rejects.toBeInstanceOf(WebhookVerificationError);
    expect(() => new StandardWebhook(secret).verify(Buffer.from(altered), headers)).toThrow();
    await expect(verifyWebhook(body, headers, other)).rejects.toThrow(/No webhook-signature matches/);
    const stale = signed([secret], new Date(Date.now() - 10 * 60_000));
    await expect(verifyWebhook(body, stale, secret)).rejects.toThrow(/tolerance/);
    expect(() => new StandardWebhook(secret).verify(Buffer.from(body), stale)).toThrow();
    await expect(verifyWebhook(body, stale, secret, { toleranceSeconds: 3600 })).resolves.toBeDefined();
    await expect(verifyWebhook(body, signed([secret], new Date(Date.now() + 10 * 60_000)), secret)).rejects.toThrow(/tolerance/);
    await expect(verifyWebhook(body, { 'webhook-id': 'x' }, secret)).rejects.toThrow(/Missing/);
  });

  it('a string body verifies only when decoded whole: one decoded chunk by chunk does not', async () => {
    const headers = signed([secret]);
    await expect(verifyWebhook(new TextDecoder().decode(body), headers, secret)).resolves.toBeDefined();
    const split = body.indexOf(0xf0) + 2; // inside the emoji
    const chunkByChunk = new TextDecoder().decode(body.subarray(0, split)) + new TextDecoder().decode(body.subarray(split));
    await expect(verifyWebhook(chunkByChunk, headers, secret)).rejects.toBeInstanceOf(WebhookVerificationError);
  });
});

describe('publish batching', () => {
  it('cuts batches by count and by bytes, and sends an event too large for any batch alone', () => {
    const events = ['"a"', '"b"', '"c"', '"d"', '"e"'];
    expect(batchesOf(events, { maxBatchEvents: 2 })).toEqual([['"a"', '"b"'], ['"c"', '"d"'], ['"e"']]);
    // [ "a" , "b" ] is 2 + 4 + 4 = 10 bytes (each event counts its comma).
    expect(batchesOf(events, { maxBatchBytes: 10 })).toEqual([['"a"', '"b"'], ['"c"', '"d"'], ['"e"']]);
    const big = `"${'æ'.repeat(20)}"`; // 42 bytes of UTF-8, 22 characters
    expect(batchesOf(['"a"', big, '"b"'], { maxBatchBytes: 30 })).toEqual([['"a"'], [big], ['"b"']]);
  });
});
