// The client's loops against a real Herald on both engines, with Herald stopped and started again (same port,
// same database) in the middle of each: nothing acknowledged is lost or handled twice.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { HeraldClient, memoryCursorStore, type RetryInfo } from '../../packages/client/src/index.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { RestartableHerald } from './herald-on-port.js';

const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';
const events = (count: number, from = 0) => Array.from({ length: count }, (_, i) => sampleEvent({ id: `event-${from + i}` }));

describeEachEngine('@herald/client loops across a Herald restart', (engine) => {
  let db: TestDatabase;
  let server: RestartableHerald;
  let client: HeraldClient;
  let retries: RetryInfo[];

  beforeEach(async () => {
    db = await engine.create();
    server = await RestartableHerald.start(db);
    retries = [];
    client = new HeraldClient({
      baseUrl: server.baseUrl,
      token: await testToken(),
      retry: { minDelayMs: 50, maxDelayMs: 200, attempts: 100 },
      onRetry: (info) => retries.push(info),
    });
  });
  /** Stops Herald now; starts it again half a second later, then runs `then`. */
  async function downThenUp(then: () => Promise<unknown>): Promise<void> {
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await server.start();
    await then();
  }

  afterEach(async () => {
    await server.stop();
    await db.destroy();
  });

  it('publish: a batched publish that meets a restart stores every event once', async () => {
    let sent = 0;
    let restarting: Promise<void> | undefined;
    const herald = new HeraldClient({
      baseUrl: server.baseUrl,
      token: await testToken(),
      retry: { minDelayMs: 50, maxDelayMs: 200, attempts: 100 },
      onRetry: (info) => retries.push(info),
      // After the fourth request has been answered, Herald goes down for a while.
      fetch: async (input, init) => {
        const answer = await fetch(input, init);
        if (++sent === 4) restarting = server.restart(500);
        return answer;
      },
    });
    const result = await herald.publish(events(200), { maxBatchEvents: 20 });
    await restarting;
    expect(result.requests).toBe(10);
    expect(retries.length).toBeGreaterThan(0);
    const stored = await server.herald.store.readLog({ afterSeq: 0, limit: 1000, resource });
    expect(stored.events.map((e) => JSON.parse(e.payload).id)).toEqual(events(200).map((e) => e.id));
  });

  it('publish: events without an id get one before the first try, so a retried publish is stored once', async () => {
    const { events: sentEvents } = await client.publish([{ source: 'https://shop.example/orders', type: 'order.placed', resource, data: { orderId: 42 } }]);
    const id = sentEvents[0]?.id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await client.publish(sentEvents[0]!);
    const stored = await server.herald.store.readLog({ afterSeq: 0, limit: 10, resource });
    expect(stored.events.map((e) => JSON.parse(e.payload).id)).toEqual([id]);
  });

  it('poll: follows next across a restart and sees every event exactly once, resuming from the cursor store', async () => {
    await client.publish(events(60), { maxBatchEvents: 60 });
    const cursor = memoryCursorStore();
    const seen: string[] = [];
    const stop = new AbortController();
    let pages = 0;
    let restarting: Promise<void> | undefined;
    for await (const page of client.poll({ resource, size: 10 }, { cursor, signal: stop.signal, idleDelayMs: 50 })) {
      seen.push(...page.events.map((e) => e.id));
      pages += 1;
      // Herald goes down before the loop asks for the next page, and comes back with more events.
      if (pages === 3) restarting = downThenUp(() => client.publish(events(30, 60)));
      if (seen.length >= 90) stop.abort();
    }
    await restarting;
    expect(seen).toEqual(events(90).map((e) => e.id));
    expect(retries.some((r) => r.reason instanceof Error)).toBe(true);
    // A new loop over the same cursor store goes on where the first stopped: nothing again, then what is new.
    await client.publish(events(5, 90));
    const again: string[] = [];
    for await (const page of client.poll({ resource, size: 10 }, { cursor, follow: false })) again.push(...page.events.map((e) => e.id));
    expect(again).toEqual(events(5, 90).map((e) => e.id));
  });

  it('pull: drains across a restart, acknowledging only handled pages; a new loop finds nothing left', async () => {
    const subscription = await client.subscriptions.create({ resourceFilter: resource });
    await client.publish(events(60), { maxBatchEvents: 60 });
    const checkpoint = memoryCursorStore();
    const handled: string[] = [];
    const stop = new AbortController();
    let pages = 0;
    let restarting: Promise<void> | undefined;
    const summary = await client.pull(
      subscription.id,
      async (page) => {
        handled.push(...page.map((e) => e.id));
        pages += 1;
        if (pages === 3) restarting = downThenUp(() => client.publish(events(30, 60)));
        if (handled.length >= 90) stop.abort();
      },
      { checkpoint, limit: 10, waitSeconds: 1, signal: stop.signal },
    );
    await restarting;
    expect(handled).toEqual(events(90).map((e) => e.id));
    expect(summary.events).toBe(90);
    expect(retries.some((r) => r.reason instanceof Error)).toBe(true);
    // The last page was handled and its checkpoint saved: the next run acknowledges it and finds the queue empty.
    const rest: string[] = [];
    await client.pull(subscription.id, (page) => void rest.push(...page.map((e) => e.id)), { checkpoint, follow: false });
    expect(rest).toEqual([]);
  });

  it('pull: a page whose handler failed is served again, and only then acknowledged', async () => {
    const subscription = await client.subscriptions.create({ resourceFilter: resource });
    await client.publish(events(20));
    const checkpoint = memoryCursorStore();
    await expect(
      client.pull(subscription.id, () => Promise.reject(new Error('database down')), { checkpoint, limit: 10, follow: false }),
    ).rejects.toThrow('database down');
    const handled: string[] = [];
    await client.pull(subscription.id, (page) => void handled.push(...page.map((e) => e.id)), { checkpoint, limit: 10, follow: false });
    expect(handled).toEqual(events(20).map((e) => e.id));
  });

  it('pull: after the subscription went inactive, its stale checkpoint is dropped and reading starts again cleanly', async () => {
    const subscription = await client.subscriptions.create({ resourceFilter: resource });
    await client.publish(events(10));
    const checkpoint = memoryCursorStore();
    const first: string[] = [];
    await client.pull(subscription.id, (page) => void first.push(...page.map((e) => e.id)), { checkpoint, limit: 5, follow: false });
    expect(first).toHaveLength(10);
    await client.publish(events(3, 10));
    // Unread for longer than the inactivity limit (60 s in tests): the saved checkpoint is out of range.
    server.herald.clock.advance(61_000);
    const after: string[] = [];
    await client.pull(subscription.id, (page) => void after.push(...page.map((e) => e.id)), { checkpoint, follow: false });
    expect(after).toEqual(events(3, 10).map((e) => e.id));
  });
});
