import { afterEach, beforeEach, expect, it } from 'vitest';
import { testToken } from '../support/tokens.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { assembleHerald, type HeraldUnderTest } from '../support/test-app.js';
import { deliveriesOf, publish, subscribe } from './helpers.js';

/** Two Herald processes on one database (on PostgreSQL, as several processes share one). */
describeEachEngine('Attempts and resend across processes on $name', (engine) => {
  let db: TestDatabase;
  let receiver: Receiver;
  const heralds: HeraldUnderTest[] = [];
  const start = async () => {
    const herald = await assembleHerald(await db.open(), { schedule: [1_000, 2_000], timeoutMs: 500 });
    heralds.push(herald);
    return herald;
  };
  beforeEach(async () => {
    db = await engine.create();
    receiver = await startReceiver();
  });
  afterEach(async () => {
    for (const herald of heralds.splice(0)) await herald.close();
    await receiver.close();
    await db.destroy();
  });

  it("refuses to resend a delivery another process is attempting, and shows that process's attempt once recorded", async () => {
    const a = await start();
    const b = await start();
    const subscription = await subscribe(a, receiver.url);
    await b.registry.reload();
    await publish(a, 'shared-1');
    const [delivery] = await deliveriesOf(a, subscription.id);
    // Process A holds the lease, as while its attempt runs.
    const now = a.clock.now();
    const [leased] = await a.store.deliveries.leaseDue('process-a', now, now + 30_000, 10);
    expect(leased?.id).toBe(delivery!.id);
    const auth = { authorization: `Bearer ${await testToken()}` };
    const resend = () => b.app.inject({ method: 'POST', url: `/events/api/v1/subscriptions/${subscription.id}/deliveries/${leased!.id}/resend`, headers: auth });
    const refused = await resend();
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'events:deliveryInFlight' });
    // A records its attempt; B sees it, and may resend now.
    const attempt = { startedAt: now, durationMs: 12, answer: { statusCode: 500, headers: { server: 'a' }, body: 'down', bodyTruncated: false } };
    expect(await a.store.deliveries.settle(leased!.id, 'process-a', { kind: 'retry', statusCode: 500, error: 'The endpoint answered 500.', nextAttemptAt: now + 1_000 }, now, attempt)).toBe(true);
    // A late report from a process that lost the lease records neither outcome nor attempt.
    expect(await b.store.deliveries.settle(leased!.id, 'process-gone', { kind: 'dead', statusCode: null, error: 'late' }, now, attempt)).toBe(false);
    const attempts = await b.app.inject({ url: `/events/api/v1/subscriptions/${subscription.id}/deliveries/${leased!.id}/attempts`, headers: auth });
    expect(attempts.json()).toMatchObject({ count: 1, attempts: [{ statusCode: 500, body: 'down', headers: { server: 'a' }, durationMs: 12 }] });
    expect((await resend()).statusCode).toBe(200);
    await b.dispatcher.runOnce();
    expect(receiver.events().map((r) => r.json.id)).toEqual(['shared-1']);
    expect(await deliveriesOf(a, subscription.id)).toMatchObject([{ status: 'delivered', attempts: 1 }]);
    expect(await a.store.attempts.list(leased!.id, 0, 10)).toHaveLength(2);
  });
});
