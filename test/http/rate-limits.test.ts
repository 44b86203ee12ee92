import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, defaultLimits, sampleEvent, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

describeEachEngine('Per-consumer rate limits on $name', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(engine, defaultLimits, { rateLimits: { publishPerSecond: 5, readPerSecond: 2 } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const publishBatch = (size: number, authorization = t.auth.authorization) =>
    t.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { authorization, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify(Array.from({ length: size }, () => sampleEvent())),
    });

  it('counts published events, not requests: over the burst is 429 with Retry-After, and nothing is stored', async () => {
    expect((await publishBatch(10)).statusCode).toBe(200); // the burst: twice the rate
    const before = await t.store.headPosition();
    const limited = await publishBatch(3);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json()).toMatchObject({ status: 429, code: 'events:tooManyRequests' });
    expect(await t.store.headPosition()).toBe(before);
  });

  it('limits each consumer on its own', async () => {
    const other = `Bearer ${await testToken({ claims: { org: 'other' } })}`;
    expect((await publishBatch(3, other)).statusCode).toBe(200);
  });

  it('limits reads (polls) per consumer', async () => {
    const poll = () =>
      t.app.inject({ method: 'GET', url: '/events/api/v1/events?after=0&resource=urn:altinn:resource:x', headers: t.auth });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await poll()).statusCode);
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(statuses).toContain(429);
  });
});

describeEachEngine('The subscription cap on $name', (engine) => {
  it('refuses a consumer a subscription over the cap with 403, yet still answers an identical request', async () => {
    const t = await createTestApp(engine, { ...defaultLimits, maxSubscriptionsPerConsumer: 2 });
    try {
      const create = (n: number) =>
        t.app.inject({
          method: 'POST',
          url: '/events/api/v1/subscriptions',
          headers: t.auth,
          payload: { resourceFilter: `urn:altinn:resource:cap-${n}` },
        });
      expect((await create(1)).statusCode).toBe(201);
      expect((await create(2)).statusCode).toBe(201);
      const over = await create(3);
      expect(over.statusCode).toBe(403);
      expect(over.json()).toMatchObject({ code: 'events:subscriptionLimit' });
      expect((await create(2)).statusCode).toBe(201);
    } finally {
      await t.close();
    }
  });
});
