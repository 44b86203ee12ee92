import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTokenVerifier } from '../../src/http/auth/token-verifier.js';
import { Dispatcher } from '../../src/delivery/dispatcher.js';
import { SubscriptionRegistry } from '../../src/delivery/subscription-registry.js';
import { WebhookSender } from '../../src/delivery/webhook-sender.js';
import type { FastifyInstance } from 'fastify';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { defaultLimits, sampleEvent } from '../support/test-app.js';
import { testSecret, testToken } from '../support/tokens.js';

describeEachEngine('Logs on $name', (engine) => {
  const lines: string[] = [];
  let db: TestDatabase;
  let app: FastifyInstance;
  let dispatcher: Dispatcher;
  let sender: WebhookSender;
  let registry: SubscriptionRegistry;
  let receiver: Receiver;

  beforeAll(async () => {
    db = await engine.create();
    const store = await db.open();
    registry = new SubscriptionRegistry(store);
    await registry.start();
    sender = new WebhookSender({ timeoutMs: 1_000, allowPrivateAddresses: true });
    dispatcher = new Dispatcher({ store, registry, sender, schedule: [1_000], timeoutMs: 1_000, baseUrl: 'https://herald.test' });
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    app = await buildApp({
      store,
      verifier: createTokenVerifier({ key: { kind: 'secret', secret: testSecret } }),
      limits: defaultLimits,
      delivery: { registry, wake: () => {}, allowPrivateEndpoints: true },
      logger: { level: 'trace', stream },
    });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await app?.close();
    await dispatcher?.stop();
    await sender?.close();
    registry?.stop();
    await receiver?.close();
    await db?.destroy();
  });

  it('logs no token, no signing secret (created or rotated), no alternative subject sent in the header, and no event data', async () => {
    const token = await testToken();
    const authorization = `Bearer ${token}`;
    const created = await app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: { authorization },
      payload: { endPoint: receiver.url, resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api' },
    });
    const { secret } = created.json() as { secret: string };
    await dispatcher.runOnce();
    await app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { authorization, 'content-type': 'application/cloudevents+json' },
      payload: sampleEvent({ id: 'logged', alternativesubject: '/person/16069412345', data: { secretValue: 'do-not-log-me' } }),
    });
    await dispatcher.runOnce();
    await app.inject({
      method: 'GET',
      url: '/events/api/v1/events?after=0&resource=urn:altinn:resource:dodsbo.domstoladmin.api',
      headers: { authorization, 'altinn-alternativesubject': '/person/16069412345' },
    });
    const { id } = created.json() as { id: number };
    const rotated = await app.inject({
      method: 'POST',
      url: `/events/api/v1/subscriptions/${id}/secret/rotate`,
      headers: { authorization },
      payload: { graceSeconds: 60 },
    });
    const { secret: newSecret } = rotated.json() as { secret: string };
    expect(newSecret).toMatch(/^whsec_/);
    await app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { authorization, 'content-type': 'application/cloudevents+json' },
      payload: sampleEvent({ id: 'logged-after-rotation' }),
    });
    await dispatcher.runOnce();
    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(0);
    const secrets = [secret, newSecret].flatMap((s) => [s, s.slice('whsec_'.length)]);
    for (const secretText of [token, ...secrets, '16069412345', 'do-not-log-me']) {
      expect(log).not.toContain(secretText);
    }
  });
});
