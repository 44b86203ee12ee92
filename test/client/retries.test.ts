// 429 and 503 provoked for real: Herald's own rate limits set tiny, a store that fails under a running Herald,
// and a Herald that is not there at all. The client waits as asked and gets everything through.
import { afterEach, expect, it } from 'vitest';
import { HeraldClient, HeraldProblemError, memoryCursorStore, type RetryInfo } from '../../packages/client/src/index.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { RestartableHerald } from './herald-on-port.js';

const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';
const events = (count: number, from = 0) => Array.from({ length: count }, (_, i) => sampleEvent({ id: `event-${from + i}` }));

describeEachEngine('@herald/client under 429 and 503', (engine) => {
  let db: TestDatabase;
  let server: RestartableHerald | undefined;
  afterEach(async () => {
    await server?.stop();
    await db.destroy();
  });

  async function clientOf(herald: RestartableHerald, retries: RetryInfo[]): Promise<HeraldClient> {
    return new HeraldClient({
      baseUrl: herald.baseUrl,
      token: await testToken(),
      retry: { minDelayMs: 50, maxDelayMs: 200, attempts: 100 },
      onRetry: (info) => retries.push(info),
    });
  }

  it('429: publishing over the rate limit waits for Retry-After and stores everything', async () => {
    db = await engine.create();
    server = await RestartableHerald.start(db, { rateLimits: { publishPerSecond: 20, readPerSecond: 0 } });
    const retries: RetryInfo[] = [];
    const client = await clientOf(server, retries);
    const started = Date.now();
    await client.publish(events(80), { maxBatchEvents: 10 });
    const tooMany = retries.filter((r) => r.reason === 429);
    expect(tooMany.length).toBeGreaterThan(0);
    // Herald says `Retry-After: 1` (whole seconds): the client waits that, not its own 50 ms backoff.
    expect(tooMany.every((r) => r.delayMs === 1000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const stored = await server.herald.store.readLog({ afterSeq: 0, limit: 1000, resource });
    expect(stored.events).toHaveLength(80);
  });

  it('429: poll and pull over the read limit wait and go on without losing a page', async () => {
    db = await engine.create();
    server = await RestartableHerald.start(db, { rateLimits: { publishPerSecond: 0, readPerSecond: 2 } });
    const retries: RetryInfo[] = [];
    const client = await clientOf(server, retries);
    const subscription = await client.subscriptions.create({ resourceFilter: resource });
    await client.publish(events(30));
    const polled: string[] = [];
    for await (const page of client.poll({ resource, size: 5 }, { follow: false })) polled.push(...page.events.map((e) => e.id));
    const pulled: string[] = [];
    await client.pull(subscription.id, (page) => void pulled.push(...page.map((e) => e.id)), { limit: 5, follow: false, checkpoint: memoryCursorStore() });
    expect(polled).toEqual(events(30).map((e) => e.id));
    expect(pulled).toEqual(events(30).map((e) => e.id));
    expect(retries.filter((r) => r.reason === 429).length).toBeGreaterThan(2);
  });

  it('503: a store that fails answers 503 with Retry-After; the publish goes through once Herald is back', async () => {
    db = await engine.create();
    server = await RestartableHerald.start(db);
    const retries: RetryInfo[] = [];
    const client = await clientOf(server, retries);
    await client.publish(events(1));
    // The store goes away under the running server: commits fail, and Herald answers 503 storeUnavailable.
    await server.herald.store.close();
    const publishing = client.publish(events(10, 1));
    await expect.poll(() => retries.filter((r) => r.reason === 503).length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(retries.find((r) => r.reason === 503)?.delayMs).toBe(1000);
    await server.restart(200);
    await publishing;
    const stored = await server.herald.store.readLog({ afterSeq: 0, limit: 100, resource });
    expect(stored.events.map((e) => JSON.parse(e.payload).id)).toEqual(events(11).map((e) => e.id));
  });

  it('connection refused: a one-off call retries within its budget, then says Herald could not be reached', async () => {
    db = await engine.create();
    server = await RestartableHerald.start(db);
    const retries: RetryInfo[] = [];
    const client = new HeraldClient({ baseUrl: server.baseUrl, token: await testToken(), retry: { attempts: 3, minDelayMs: 20 }, onRetry: (r) => retries.push(r) });
    await server.stop();
    await expect(client.publish(events(1))).rejects.toThrow(/POST http:\/\/127\.0\.0\.1:\d+\/events\/api\/v1\/events failed/);
    expect(retries).toHaveLength(2);
    // A refusal is not retried, and carries the problem details.
    await server.start();
    const refused = await client.publish({ ...events(1)[0]!, resource: 'not a urn' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HeraldProblemError);
    expect(refused).toMatchObject({ status: 400, code: 'events:invalidEvent', title: 'One or more validation errors occurred.' });
    expect((refused as HeraldProblemError).errors).toHaveProperty('resource');
    expect((refused as HeraldProblemError).traceId).toBeTypeOf('string');
    expect(retries).toHaveLength(2);
  });
});

describeEachEngine('@herald/client publishing to a Herald with smaller limits', (engine) => {
  it('413: a batch over the request limit Herald is configured with is sent again in halves', async () => {
    const db = await engine.create();
    const server = await RestartableHerald.start(db, { limits: { maxEventBytes: 4096, maxRequestBytes: 8192 } });
    try {
      const client = new HeraldClient({ baseUrl: server.baseUrl, token: await testToken() });
      const padded = events(40).map((event) => ({ ...event, data: 'x'.repeat(500) }));
      const { requests } = await client.publish(padded); // ~25 KB in one batch, as far as the client knows
      expect(requests).toBeGreaterThan(4);
      const stored = await server.herald.store.readLog({ afterSeq: 0, limit: 100, resource });
      expect(stored.events).toHaveLength(40);
      // One event alone over the limit cannot be halved: the 413 comes through.
      await expect(client.publish([{ ...events(1, 40)[0]!, data: 'x'.repeat(5000) }])).rejects.toMatchObject({ status: 413, code: 'events:payloadTooLarge' });
    } finally {
      await server.stop();
      await db.destroy();
    }
  });
});
