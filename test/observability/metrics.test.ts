import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Dispatcher } from '../../src/delivery/dispatcher.js';
import { SubscriptionRegistry } from '../../src/delivery/subscription-registry.js';
import { WebhookSender } from '../../src/delivery/webhook-sender.js';
import { type AppOptions, buildApp } from '../../src/http/app.js';
import { createTokenVerifier } from '../../src/http/auth/token-verifier.js';
import { HeraldMetrics } from '../../src/observability/herald-metrics.js';
import type { Store } from '../../src/store/store.js';
import { describeEachEngine, engines, type TestDatabase } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { defaultLimits, sampleEvent, TestClock } from '../support/test-app.js';
import { testSecret, testToken } from '../support/tokens.js';
import { parseScrape, type Scrape } from './prometheus-text.js';

const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';

/** Herald as `server.ts` wires it: the app and the dispatcher count into one set of metrics. */
async function heraldWithMetrics(store: Store, extra: Partial<AppOptions> = {}) {
  const clock = new TestClock();
  const metrics = new HeraldMetrics();
  const registry = new SubscriptionRegistry(store);
  await registry.start();
  const sender = new WebhookSender({ timeoutMs: 2_000, allowPrivateAddresses: true });
  const dispatcher = new Dispatcher({
    store,
    registry,
    sender,
    schedule: [1_000],
    timeoutMs: 2_000,
    baseUrl: 'https://herald.test',
    clock: clock.now,
    random: () => 0.5,
    metrics,
  });
  const app = await buildApp({
    store,
    verifier: createTokenVerifier({ key: { kind: 'secret', secret: testSecret } }),
    limits: defaultLimits,
    delivery: { registry, wake: () => {}, allowPrivateEndpoints: true },
    clock: clock.now,
    metrics,
    ...extra,
  });
  return {
    app,
    dispatcher,
    clock,
    async close() {
      await app.close();
      await dispatcher.stop();
      await sender.close();
      registry.stop();
    },
  };
}

async function scrape(app: FastifyInstance, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await app.inject({ method: 'GET', url: '/metrics', headers });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseScrape(response.body);
}

describeEachEngine('Metrics on $name', (engine) => {
  let db: TestDatabase;
  let store: Store;
  let herald: Awaited<ReturnType<typeof heraldWithMetrics>>;
  let receiver: Receiver;
  let authorization: string;

  beforeEach(async () => {
    db = await engine.create();
    store = await db.open();
    herald = await heraldWithMetrics(store);
    receiver = await startReceiver();
    authorization = `Bearer ${await testToken()}`;
  });
  afterEach(async () => {
    await herald?.close();
    await receiver?.close();
    await db?.destroy();
  });

  const publish = (payload: unknown, contentType = 'application/cloudevents+json') =>
    herald.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { authorization, 'content-type': contentType },
      payload: JSON.stringify(payload),
    });

  const subscribe = async (body: Record<string, unknown>): Promise<number> => {
    const response = await herald.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: { authorization },
      payload: body,
    });
    expect(response.statusCode).toBe(201);
    return (response.json() as { id: number }).id;
  };

  it('counts publishing, commits, deliveries, dead letters, pulls and subscriptions by the right amounts', async () => {
    await subscribe({ endPoint: receiver.url, resourceFilter: resource });
    const pullId = await subscribe({ resourceFilter: resource });
    await herald.dispatcher.runOnce(); // the push subscription's handshake

    const first = sampleEvent();
    expect((await publish([first, sampleEvent(), sampleEvent()], 'application/cloudevents-batch+json')).statusCode).toBe(200);
    expect((await publish(first)).statusCode).toBe(200); // a duplicate
    expect((await publish(sampleEvent({ resource: 'not-a-urn' }))).statusCode).toBe(400); // refused
    expect(await herald.dispatcher.runOnce()).toBe(3);

    // The receiver fails: the next event is retried, and after the last attempt dead-lettered.
    receiver.behave(() => ({ status: 503 }));
    expect((await publish(sampleEvent())).statusCode).toBe(200);
    await herald.dispatcher.runOnce();
    herald.clock.advance(60_000);
    const waiting = await scrape(herald.app);
    // Due about a second after the first attempt, and the clock has moved a minute since.
    expect(waiting.value('herald_delivery_queue_lag_seconds')).toBeGreaterThanOrEqual(58);
    await herald.dispatcher.runOnce();

    const pulled = await herald.app.inject({
      method: 'GET',
      url: `/events/api/v1/subscriptions/${pullId}/events`,
      headers: { authorization },
    });
    expect((pulled.json() as { events: unknown[] }).events).toHaveLength(4);
    expect((await herald.app.inject({ method: 'GET', url: '/events/api/v1/nowhere' })).statusCode).toBe(404);

    const metrics = await scrape(herald.app);
    expect(metrics.value('herald_published_events_total', { outcome: 'stored' })).toBe(4);
    expect(metrics.value('herald_published_events_total', { outcome: 'duplicate' })).toBe(1);
    expect(metrics.value('herald_published_events_total', { outcome: 'refused' })).toBe(1);
    expect(metrics.value('herald_published_events_total', { outcome: 'failed' })).toBe(0);
    // Three requests committed (the batch, the duplicate, the last event), each in a commit of its own.
    expect(metrics.value('herald_publish_duration_seconds_count')).toBe(3);
    expect(metrics.value('herald_group_commit_events_count')).toBe(3);
    expect(metrics.value('herald_group_commit_events_sum')).toBe(5);
    expect(metrics.value('herald_deliveries_total', { outcome: 'delivered', status_class: '2xx' })).toBe(3);
    expect(metrics.value('herald_deliveries_total', { outcome: 'retry', status_class: '5xx' })).toBe(1);
    expect(metrics.value('herald_deliveries_total', { outcome: 'dead', status_class: '5xx' })).toBe(1);
    expect(metrics.value('herald_dead_letters_total')).toBe(1);
    expect(metrics.value('herald_delivery_latency_seconds_count')).toBe(3);
    expect(metrics.value('herald_delivery_queue_lag_seconds')).toBe(0);
    expect(metrics.value('herald_pulled_events_total')).toBe(4);
    expect(metrics.value('herald_subscriptions', { status: 'active', kind: 'push' })).toBe(1);
    expect(metrics.value('herald_subscriptions', { status: 'active', kind: 'pull' })).toBe(1);
    expect(metrics.value('herald_subscriptions', { status: 'pending', kind: 'push' })).toBe(0);
    expect([...metrics.names].filter((name) => name.startsWith('herald_store_errors'))).toEqual([]);
    // prom-client's process metrics come along.
    expect(metrics.names).toContain('process_cpu_user_seconds_total');
    expect(metrics.names).toContain('nodejs_eventloop_lag_seconds');
  });

  it('a store that stops answering shows as store errors and failed events, and /metrics still answers', async () => {
    await store.close();
    const response = await publish(sampleEvent());
    expect(response.statusCode).toBe(503);

    const metrics = await scrape(herald.app);
    expect(metrics.value('herald_published_events_total', { outcome: 'failed' })).toBe(1);
    expect(metrics.value('herald_store_errors_total', { kind: 'unavailable', operation: 'publish' })).toBeGreaterThanOrEqual(1);
    expect(metrics.value('herald_store_errors_total', { kind: 'unavailable', operation: 'scrape' })).toBe(1);
    // What only the store knows is left out rather than reported stale.
    expect(metrics.names).not.toContain('herald_delivery_queue_lag_seconds');
    expect(metrics.names).not.toContain('herald_subscriptions');
  });
});

describe('GET /metrics access', () => {
  let db: TestDatabase;
  let herald: Awaited<ReturnType<typeof heraldWithMetrics>> | undefined;

  beforeEach(async () => {
    db = await (engines[0] as (typeof engines)[number]).create();
  });
  afterEach(async () => {
    await herald?.close();
    herald = undefined;
    await db?.destroy();
  });

  it('is open when no token is configured', async () => {
    herald = await heraldWithMetrics(await db.open());
    await scrape(herald.app);
  });

  it('with HERALD_METRICS_TOKEN, answers 401 problem details without the token or with another, 200 with it', async () => {
    const token = 'scrape-token-0123456789';
    herald = await heraldWithMetrics(await db.open(), { metricsToken: token });
    for (const headers of [{}, { authorization: 'Bearer scrape-token-0123456788' }, { authorization: token }]) {
      const response = await herald.app.inject({ method: 'GET', url: '/metrics', headers });
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(response.json()).toMatchObject({ code: 'events:unauthenticated', traceId: response.headers['x-request-id'] });
      expect(response.body).not.toContain('herald_');
    }
    await scrape(herald.app, { authorization: `Bearer ${token}` });
  });

  it('is outside the rate limits: scrapes are never refused with 429', async () => {
    herald = await heraldWithMetrics(await db.open(), { rateLimits: { publishPerSecond: 1, readPerSecond: 1 } });
    for (let i = 0; i < 5; i++) await scrape(herald.app);
  });

  it('each app counts only its own work, though many share the process', async () => {
    herald = await heraldWithMetrics(await db.open());
    const other = await heraldWithMetrics(await db.open());
    try {
      const response = await other.app.inject({
        method: 'POST',
        url: '/events/api/v1/events',
        headers: { authorization: `Bearer ${await testToken()}`, 'content-type': 'application/cloudevents+json' },
        payload: JSON.stringify(sampleEvent()),
      });
      expect(response.statusCode).toBe(200);
      expect((await scrape(other.app)).value('herald_published_events_total', { outcome: 'stored' })).toBe(1);
      expect((await scrape(herald.app)).value('herald_published_events_total', { outcome: 'stored' })).toBe(0);
    } finally {
      await other.close();
    }
  });
});
