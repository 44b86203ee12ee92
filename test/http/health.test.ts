import { expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeEachEngine } from '../support/engines.js';
import { assembleHerald, createTestApp, sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

describeEachEngine('Health, readiness and store failures on $name', (engine) => {
  it('reports health always, and readiness only while the store answers', async () => {
    const t = await createTestApp(engine);
    try {
      expect((await t.app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
      const ready = await t.app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready', engine: engine.name });

      await t.store.close();
      const notReady = await t.app.inject({ method: 'GET', url: '/ready' });
      expect(notReady.statusCode).toBe(503);
      expect(notReady.json()).toMatchObject({ code: 'events:storeUnavailable' });
      expect((await t.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('answers 503 with Retry-After to the requests of a failed commit, stores none of them, and recovers', async () => {
    const db = await engine.create();
    const real = await db.open();
    // Two failures: the shared commit, and the retry each request gets alone.
    let failuresLeft = 2;
    const flaky: Store = Object.create(real);
    flaky.appendEvents = async (events) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('injected: disk unavailable');
      }
      return real.appendEvents(events);
    };
    const herald = await assembleHerald(flaky);
    const app = herald.app;
    const headers = {
      authorization: `Bearer ${await testToken()}`,
      'content-type': 'application/cloudevents+json',
    };
    try {
      const failed = await app.inject({
        method: 'POST',
        url: '/events/api/v1/events',
        headers,
        payload: sampleEvent({ id: 'first' }),
      });
      expect(failed.statusCode).toBe(503);
      expect(failed.headers['retry-after']).toBe('1');
      expect(failed.json()).toMatchObject({ status: 503, code: 'events:storeUnavailable' });
      expect(failed.body).not.toContain('injected');

      const retried = await app.inject({
        method: 'POST',
        url: '/events/api/v1/events',
        headers,
        payload: sampleEvent({ id: 'second' }),
      });
      expect(retried.statusCode).toBe(200);
      const stored = await real.readEvents({ afterSeq: 0, limit: 10 });
      expect(stored.map((row) => JSON.parse(row.payload).id)).toEqual(['second']);
    } finally {
      await herald.close();
      await db.destroy();
    }
  });
});

describeEachEngine('Store outages on other routes, on $name', (engine) => {
  it('answers 503 with Retry-After, not 500, when the store is gone while polling or listing subscriptions', async () => {
    const t = await createTestApp(engine);
    try {
      await t.store.close();
      for (const url of [
        '/events/api/v1/events?after=0&resource=urn:altinn:resource:x',
        '/events/api/v1/subscriptions',
        '/events/api/v1/subscriptions/1',
      ]) {
        const response = await t.app.inject({ method: 'GET', url, headers: t.auth });
        expect(response.statusCode, url).toBe(503);
        expect(response.headers['retry-after']).toBe('1');
        expect(response.json()).toMatchObject({ code: 'events:storeUnavailable' });
      }
    } finally {
      await t.close();
    }
  });
});
