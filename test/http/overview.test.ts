import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scopes } from '../../src/domain/identity.js';
import { overviewSamplerFor } from '../../src/http/app.js';
import { HeraldMetrics } from '../../src/observability/herald-metrics.js';
import type { OverviewSampler } from '../../src/observability/overview-sampler.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { assembleHerald, type HeraldUnderTest, sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { eventsPath, expectProblem, recordingInject } from './harness.js';

const overviewPath = '/events/api/v1/overview';
const subscriptionsPath = '/events/api/v1/subscriptions';
const bearer = async (scope: string, org = 'ttd') => ({ authorization: `Bearer ${await testToken({ scope, claims: { org } })}` });

/**
 * `GET /overview` (docs/observability.md, "Overview"): a sampler on the metrics the app and the dispatcher count
 * into, driven here step by step on a clock of its own, never by waiting for its timer.
 */
describeEachEngine('The overview on $name', (engine) => {
  let db: TestDatabase;
  let herald: HeraldUnderTest;
  let http: ReturnType<typeof recordingInject>;
  let receiver: Receiver;
  let overview: OverviewSampler;
  let now = 1_800_000_000_000;
  const tokens = {} as Record<'subscriber' | 'publisher' | 'operator', { authorization: string }>;

  const read = (auth?: { authorization: string }) => http.inject({ method: 'GET', url: overviewPath, headers: auth ?? {} });

  beforeAll(async () => {
    db = await engine.create();
    const store = await db.open();
    const metrics = new HeraldMetrics();
    overview = overviewSamplerFor(store, metrics, { clock: () => now });
    herald = await assembleHerald(store, { metrics, overview });
    http = recordingInject(herald.app);
    receiver = await startReceiver();
    tokens.subscriber = await bearer(`${scopes.publish} ${scopes.subscribe}`);
    tokens.publisher = await bearer(scopes.publish);
    tokens.operator = await bearer(scopes.operator, 'ops');
  });
  afterAll(async () => {
    expect(http.takeServerErrors()).toEqual([]);
    await herald?.close();
    await overview?.stop();
    await receiver?.close();
    await db?.destroy();
  });

  it('is empty before the sampler has two readings', async () => {
    const answer = await read(tokens.subscriber);
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toEqual({ intervalSeconds: 10, samples: [] });
    await overview.sample();
    expect((await read(tokens.subscriber)).json().samples).toEqual([]);
  });

  it('shows published and delivered rates, latency, backlog and dead letters after traffic', async () => {
    const push = await http.inject({ method: 'POST', url: subscriptionsPath, headers: tokens.subscriber, payload: { endPoint: receiver.url, resourceFilter: sampleEvent().resource } });
    const pull = await http.inject({ method: 'POST', url: subscriptionsPath, headers: tokens.subscriber, payload: { resourceFilter: sampleEvent().resource } });
    expect([push.statusCode, pull.statusCode]).toEqual([201, 201]);
    await herald.dispatcher.runOnce(); // the handshake
    const published = await http.inject({
      method: 'POST',
      url: eventsPath,
      headers: { ...tokens.subscriber, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify([sampleEvent(), sampleEvent(), sampleEvent(), sampleEvent()]),
    });
    expect(published.statusCode, published.body).toBe(200);
    await herald.dispatcher.runOnce(); // the deliveries
    expect(receiver.events()).toHaveLength(4);
    now += 10_000;
    await overview.sample();

    const [sample, ...more] = (await read(tokens.subscriber)).json().samples;
    expect(more).toEqual([]);
    expect(sample).toEqual({
      time: new Date(now).toISOString(),
      publishedPerSecond: 0.4,
      deliveredPerSecond: 0.4,
      latencyP50Ms: expect.any(Number),
      latencyP99Ms: expect.any(Number),
      // The pull queue's four unread events; the pushed ones were delivered.
      backlog: 4,
      deadLetters: 0,
    });

    now += 10_000;
    await overview.sample();
    const quiet = (await read(tokens.subscriber)).json().samples;
    expect(quiet).toHaveLength(2);
    expect(quiet[1]).toMatchObject({ publishedPerSecond: 0, deliveredPerSecond: 0, latencyP50Ms: null, latencyP99Ms: null, backlog: 4 });
  });

  describe('who may read it', () => {
    it('answers a subscribe token and an operator token; refuses a publish-only token (403) and no token (401)', async () => {
      expect((await read(tokens.subscriber)).statusCode).toBe(200);
      expect((await read(tokens.operator)).statusCode).toBe(200);
      expectProblem(await read(tokens.publisher), 403, 'events:forbidden');
      expectProblem(await read(), 401, 'events:unauthenticated');
    });
  });
});

describeEachEngine('The overview with HERALD_METRICS_TOKEN set on $name', (engine) => {
  let db: TestDatabase;
  let herald: HeraldUnderTest;

  beforeAll(async () => {
    db = await engine.create();
    herald = await assembleHerald(await db.open(), { metricsToken: 'scrape-token' });
  });
  afterAll(async () => {
    await herald?.close();
    await db?.destroy();
  });

  it('answers operators only: the figures /metrics keeps behind its token stay behind a scope', async () => {
    const subscriber = await bearer(scopes.subscribe);
    const problem = expectProblem(await herald.app.inject({ method: 'GET', url: overviewPath, headers: subscriber }), 403, 'events:forbidden');
    expect(problem.detail).toBe(`This requires the scope '${scopes.operator}'.`);
    const operator = await herald.app.inject({ method: 'GET', url: overviewPath, headers: await bearer(scopes.operator) });
    expect(operator.statusCode, operator.body).toBe(200);
    expect(operator.json()).toEqual({ intervalSeconds: 10, samples: [] });
  });
});
