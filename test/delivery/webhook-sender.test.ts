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
