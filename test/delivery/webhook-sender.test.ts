import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookSender } from '../../src/delivery/webhook-sender.js';
import { type Receiver, startReceiver } from '../support/receiver.js';

describe('WebhookSender address checks at connect time', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  it('refuses to dial a private address, by IP literal or by a host name resolving to one (DNS rebinding)', async () => {
    const sender = new WebhookSender({ timeoutMs: 1_000, allowPrivateAddresses: false });
    try {
      const port = new URL(receiver.url).port;
      for (const url of [receiver.url, `http://localhost:${port}/hook`, `http://[::ffff:127.0.0.1]:${port}/hook`]) {
        const response = await sender.send(url, {}, '{}');
        expect(response, url).toMatchObject({ kind: 'failed' });
        expect((response as { error: string }).error).toMatch(/not a public internet address/);
      }
      expect(receiver.received).toHaveLength(0);
    } finally {
      await sender.close();
    }
  });

  it('dials private addresses when the operator allows them', async () => {
    const sender = new WebhookSender({ timeoutMs: 1_000, allowPrivateAddresses: true });
    try {
      const port = new URL(receiver.url).port;
      expect(await sender.send(`http://localhost:${port}/hook`, {}, '{}')).toMatchObject({ kind: 'answered', statusCode: 200 });
    } finally {
      await sender.close();
    }
  });
});

describe('WebhookSender reading an answer', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  it('keeps the first 4 KiB of a long body and stops there: the receiver never gets to send the rest', async () => {
    const sender = new WebhookSender({ timeoutMs: 5_000, allowPrivateAddresses: true });
    // 32 MiB offered in 64 KiB pieces, each only once the last was taken: far more than socket buffers hold, so
    // the receiver gets through it only if Herald reads it all.
    const piece = Buffer.alloc(64 * 1024, 'y');
    const total = 32 * 1024 * 1024;
    const sent = new Promise<number>((resolve) =>
      receiver.behave((_request, response) => {
        let written = 0;
        response.writeHead(500, { 'content-type': 'text/plain', 'x-many': ['a', 'b'] as unknown as string });
        response.on('close', () => resolve(written));
        const more = () => {
          while (written < total && !response.destroyed) {
            written += piece.length;
            if (!response.write(piece)) return void response.once('drain', more);
          }
          response.end();
        };
        more();
        return 'handled';
      }),
    );
    try {
      const response = await sender.send(receiver.url, {}, '{}');
      expect(response).toMatchObject({ kind: 'answered', statusCode: 500, bodyTruncated: true, headers: { 'content-type': 'text/plain', 'x-many': 'a, b' } });
      expect((response as { body: string }).body).toBe('y'.repeat(4096));
      expect(await sent).toBeLessThan(total);
    } finally {
      await sender.close();
    }
  });

  it('keeps a short body whole, and says it was not cut', async () => {
    const sender = new WebhookSender({ timeoutMs: 5_000, allowPrivateAddresses: true });
    receiver.behave(() => ({ status: 200, body: 'ok' }));
    try {
      expect(await sender.send(receiver.url, {}, '{}')).toMatchObject({ kind: 'answered', statusCode: 200, body: 'ok', bodyTruncated: false });
    } finally {
      await sender.close();
    }
  });
});
