// The three receivers (node:http, Fastify, Express) verifying real deliveries from Herald of ~90 KB bodies of
// Norwegian text and emoji, which arrive in chunks that split characters; cross-checked with `standardwebhooks`
// and `svix`, which verify the same bytes.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type CloudEvent, HeraldClient, type WebhookReceiverOptions } from '../../packages/client/src/index.js';
import { expressWebhookReceiver, fastifyWebhookReceiver, nodeWebhookHandler } from '../../packages/client/src/receivers/index.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { RestartableHerald } from './herald-on-port.js';
import { sendInTwoChunks } from './split-sender.js';

const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';
/** About 90 KB of UTF-8, most of it in characters of two and four bytes. */
const norwegian = 'Blåbærsyltetøy på skjærgården, ærfugl og måker 🦆🇳🇴 æøå ÆØÅ — «sjø» 😀🎉 '.repeat(900);
/** Each body starts shifted by a few bytes, so the chunk boundaries fall at different places in the text. */
const bigEvent = (i: number) =>
  sampleEvent({ id: `big-${i}`, datacontenttype: 'application/json', data: { shift: 'x'.repeat(i * 7), text: norwegian } });
const receiverNames = ['node', 'fastify', 'express'] as const;
type ReceiverName = (typeof receiverNames)[number];

interface CrossCheck {
  readonly standardWebhooks: boolean;
  readonly svix: boolean;
  /** What `body += chunk` would have read equals the real body: false when a chunk split a character. */
  readonly naiveIntact: boolean;
}

describeEachEngine('@herald/client receivers on real deliveries', (engine) => {
  let db: TestDatabase;
  let server: RestartableHerald;
  let client: HeraldClient;
  const secrets = new Map<string, string>();
  const received = new Map<ReceiverName, CloudEvent[]>();
  const checks: CrossCheck[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  const urls = new Map<ReceiverName | 'crossCheck', string>();

  const options = (name: ReceiverName): WebhookReceiverOptions => ({
    secret: () => secrets.get(name) ?? 'whsec_bm90LXlldA==',
    onEvent: (event) => void received.get(name)?.push(event),
  });

  beforeEach(async () => {
    secrets.clear();
    checks.length = 0;
    for (const name of receiverNames) received.set(name, []);
    db = await engine.create();
    server = await RestartableHerald.start(db, { timeoutMs: 10_000 }, true);
    client = new HeraldClient({ baseUrl: server.baseUrl, token: await testToken() });

    const nodeServer = createServer(nodeWebhookHandler(options('node')));
    urls.set('node', `${await listen(nodeServer)}/hook`);
    closers.push(() => close(nodeServer));

    const fastify: FastifyInstance = Fastify();
    fastify.post('/other', async (request) => request.body); // the app's own JSON parsing is untouched
    await fastify.register(fastifyWebhookReceiver(options('fastify')), { prefix: '/herald' });
    urls.set('fastify', `${await fastify.listen({ port: 0, host: '127.0.0.1' })}/herald`);
    closers.push(() => fastify.close());

    const app = express();
    app.post('/herald', expressWebhookReceiver(options('express')));
    app.use(express.json());
    const expressServer = app.listen(0, '127.0.0.1');
    urls.set('express', `${await listen(expressServer)}/herald`);
    closers.push(() => close(expressServer));

    // The libraries' own verdict on the same bytes, and what decoding chunk by chunk would have done to them.
    const crossCheck = createServer((request, response) => {
      const chunks: Buffer[] = [];
      let naive = '';
      request.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        naive += chunk;
      });
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        const secret = secrets.get('crossCheck') ?? 'whsec_bm90LXlldA==';
        const headers = request.headers as Record<string, string>;
        const verdict = (verify: () => unknown) => {
          try {
            verify();
            return true;
          } catch {
            return false;
          }
        };
        const check = {
          standardWebhooks: verdict(() => new StandardWebhook(secret).verify(body, headers)),
          svix: verdict(() => new SvixWebhook(secret).verify(body, headers)),
          naiveIntact: naive === body.toString('utf8'),
        };
        if (!body.includes('validatesubscription')) checks.push(check);
        response.writeHead(check.standardWebhooks && check.svix ? 204 : 401).end();
      });
    });
    urls.set('crossCheck', `${await listen(crossCheck)}/check`);
    closers.push(() => close(crossCheck));
  });

  afterEach(async () => {
    for (const closeOne of closers.splice(0)) await closeOne();
    await server.stop();
    await db.destroy();
  });

  async function subscribeAll(): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    for (const [name, url] of urls) {
      const subscription = await client.subscriptions.create({ endPoint: url, resourceFilter: resource });
      secrets.set(name, subscription.secret!);
      ids.set(name, subscription.id);
      // The handshake may have come before the receiver knew the secret: run it again.
      await client.subscriptions.validate(subscription.id);
    }
    for (const id of ids.values()) {
      await expect.poll(async () => (await client.subscriptions.get(id)).status, { timeout: 15_000 }).toBe('active');
    }
    return ids;
  }

  it('verifies 13 deliveries of ~90 KB split multi-byte bodies in every receiver, as both libraries do', async () => {
    const ids = await subscribeAll();
    const published = await client.publish(Array.from({ length: 13 }, (_, i) => bigEvent(i)));
    expect(published.requests).toBeGreaterThan(1); // 13 × 90 KB is over Herald's 1 MiB per request: batched by bytes
    for (const name of receiverNames) {
      await expect.poll(() => received.get(name)?.length, { timeout: 30_000 }).toBe(13);
      const events = received.get(name) ?? [];
      expect(events.map((e) => e.id).sort()).toEqual(Array.from({ length: 13 }, (_, i) => `big-${i}`).sort());
      expect(events.every((e) => (e.data as { text: string }).text === norwegian)).toBe(true);
    }
    await expect.poll(() => checks.length, { timeout: 30_000 }).toBe(13);
    expect(checks.every((c) => c.standardWebhooks && c.svix)).toBe(true);
    // The bodies really did arrive split inside characters: decoding chunk by chunk would have broken these.
    expect(checks.filter((c) => !c.naiveIntact).length).toBeGreaterThan(0);

    // A resend keeps its webhook-id: the receiver answers it without handling the event again.
    const nodeSubscription = ids.get('node')!;
    const [first] = (await client.deliveries.list(nodeSubscription)).deliveries;
    await client.deliveries.resend(nodeSubscription, first!.id);
    await expect.poll(async () => (await client.deliveries.attempts(nodeSubscription, first!.id)).attempts.length, { timeout: 15_000 }).toBe(2);
    const attempts = (await client.deliveries.attempts(nodeSubscription, first!.id)).attempts;
    expect(attempts.map((a) => a.statusCode)).toEqual([204, 200]);
    expect(received.get('node')).toHaveLength(13);
  });

  it('accepts a body split inside an emoji by the sender, refuses an altered one, and holds either secret through a rotation', async () => {
    const ids = await subscribeAll();
    const body = Buffer.from(JSON.stringify(bigEvent(99)));
    const emoji = body.indexOf(Buffer.from('🦆'));
    for (const name of receiverNames) {
      const secret = secrets.get(name)!;
      expect(await sendInTwoChunks(urls.get(name)!, secret, body, emoji + 2)).toBe(204);
      const altered = Buffer.from(body);
      altered[10] = altered[10]! ^ 1;
      expect(await sendInTwoChunks(urls.get(name)!, secret, altered, emoji + 2, body)).toBe(401);
      expect(received.get(name)?.at(-1)?.id).toBe('big-99');
    }

    // During a rotation's grace period Herald signs with both secrets: a receiver holding only the old one accepts.
    const nodeId = ids.get('node')!;
    const oldSecret = secrets.get('node')!;
    const rotation = await client.subscriptions.rotateSecret(nodeId, { graceSeconds: 3600 });
    expect(rotation.secret).not.toBe(oldSecret);
    await client.publish(sampleEvent({ id: 'after-rotation-1' }));
    await expect.poll(() => received.get('node')?.some((e) => e.id === 'after-rotation-1'), { timeout: 15_000 }).toBe(true);
    secrets.set('node', rotation.secret); // and one holding only the new one
    await client.publish(sampleEvent({ id: 'after-rotation-2' }));
    await expect.poll(() => received.get('node')?.some((e) => e.id === 'after-rotation-2'), { timeout: 15_000 }).toBe(true);
  });
});

async function listen(server: Server): Promise<string> {
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
