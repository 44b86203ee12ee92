import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { expectProblem, recordingInject } from './harness.js';
import { drainReplays, instantBetween, type ReplayBody, replayClient, replayResource, subscriptionsPath } from './replay-harness.js';

describeEachEngine('Subscriptions that start in the past (startFrom) on $name', (engine) => {
  let t: TestApp;
  let http: ReturnType<typeof recordingInject>;
  let client: ReturnType<typeof replayClient>;
  let receiver: Receiver;
  beforeEach(async () => {
    t = await createTestApp(engine, undefined, { schedule: [1_000], timeoutMs: 1_000, replayLimits: { perConsumer: 1, examinedRows: 50 } });
    http = recordingInject(t.app);
    client = replayClient({ ...t, app: { inject: http.inject } as unknown as TestApp['app'] }, t.auth);
    receiver = await startReceiver();
  });
  afterEach(async () => {
    expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
    await t?.close();
    await receiver?.close();
  });

  /** Reads (and acknowledges) a pull subscription's whole queue. */
  async function drainQueue(id: number): Promise<string[]> {
    const read: string[] = [];
    let checkPoint: string | undefined;
    for (;;) {
      const query = checkPoint ? `?checkPoint=${encodeURIComponent(checkPoint)}` : '';
      const response = await http.inject({ url: `${subscriptionsPath}/${id}/events${query}`, headers: t.auth });
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json() as { checkPoint: string; events: { id: string }[] };
      if (page.events.length === 0) return read;
      read.push(...page.events.map((e) => e.id));
      checkPoint = page.checkPoint;
    }
  }

  const subscriptionCount = async () =>
    ((await http.inject({ url: subscriptionsPath, headers: t.auth })).json() as { count: number }).count;

  it('backfills a pull subscription from a time: the answer names the backfill, which runs once every process matches', async () => {
    await client.publish('a1');
    const from = await instantBetween();
    await client.publish('b1', 'b2');
    const created = await client.subscribe({ resourceFilter: replayResource, startFrom: from });
    expect(created.statusCode, created.body).toBe(201);
    const { id, backfill } = created.json() as { id: number; backfill: ReplayBody };
    expect(backfill).toMatchObject({ subscriptionId: id, status: 'waiting', events: 2, enqueued: 0, from });
    await client.publish('c1');

    // It waits a moment for every process to match the new subscription's events…
    expect(await t.replayer.runOnce()).toBe(0);
    t.clock.advance(2_000);
    await drainReplays(t);
    // …then covers everything up to then: c1, published meanwhile, comes live and again from the backfill.
    expect((await client.get(id, backfill.id)).json()).toMatchObject({ status: 'completed', events: 3, enqueued: 3 });
    expect(await drainQueue(id)).toEqual(['c1', 'b1', 'b2', 'c1']);
  });

  it('backfills a push subscription from an event once its endpoint is validated, with nothing published meanwhile lost', async () => {
    await client.publish('a1', 'a2', 'a3');
    const created = await client.subscribe({ endPoint: receiver.url, resourceFilter: replayResource, startFrom: 'a1' });
    expect(created.statusCode, created.body).toBe(201);
    const { id, secret, backfill } = created.json() as { id: number; secret: string; backfill: ReplayBody };
    expect(backfill).toMatchObject({ status: 'waiting', events: 2, after: 'a1' });
    // Published before the handshake: a pending subscription receives nothing live.
    await client.publish('b1');
    t.clock.advance(5_000);
    expect(await t.replayer.runOnce()).toBe(0);

    await t.dispatcher.runOnce();
    t.clock.advance(2_000);
    await drainReplays(t);
    await t.dispatcher.runOnce();
    const webhook = new Webhook(secret);
    const ids = receiver.events().map((r) => (webhook.verify(r.body, r.headers as Record<string, string>) as { id: string }).id);
    expect(ids.sort()).toEqual(['a2', 'a3', 'b1']);
    expect((await client.get(id, backfill.id)).json()).toMatchObject({ status: 'completed', events: 3, enqueued: 3 });
  });

  it('answers an identical subscription asked again as it is, without a second backfill', async () => {
    await client.publish('a1');
    const body = { resourceFilter: replayResource, startFrom: '0' };
    const first = (await client.subscribe(body)).json() as { id: number; backfill?: ReplayBody };
    expect(first.backfill).toBeDefined();
    const again = await client.subscribe(body);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ id: first.id });
    expect(again.json()).not.toHaveProperty('backfill');
    expect(await client.list(first.id)).toHaveLength(1);
  });

  const badStarts: [string, unknown, number, string][] = [
    ['a date that does not exist', '2024-02-30T00:00:00Z', 400, 'events:invalidRequest'],
    ['an empty string', '', 400, 'events:invalidRequest'],
    ['a number', 42, 400, 'events:invalidRequest'],
    ['an event Herald does not know', 'never-published', 400, 'events:unknownCursor'],
    ['a position beyond the log', '~999999999999', 400, 'events:unknownCursor'],
  ];
  for (const [name, startFrom, status, code] of badStarts) {
    it(`refuses a startFrom of ${name} and creates nothing`, async () => {
      expectProblem(await client.subscribe({ resourceFilter: replayResource, startFrom }), status, code);
      expect(await subscriptionCount()).toBe(0);
    });
  }

  it('refuses a backfill too large, or one the consumer has no room for, and creates nothing', async () => {
    await client.publish(...Array.from({ length: 60 }, (_, i) => `bulk-${i}`));
    expectProblem(await client.subscribe({ resourceFilter: replayResource, startFrom: '0' }), 400, 'events:replayTooLarge');
    expect(await subscriptionCount()).toBe(0);
    const first = await client.subscribe({ resourceFilter: replayResource, startFrom: 'bulk-50' });
    expect(first.statusCode, first.body).toBe(201);
    const second = await client.subscribe({ resourceFilter: replayResource, typeFilter: 'x', startFrom: 'bulk-50' });
    expectProblem(second, 409, 'events:replayLimit');
    expect(await subscriptionCount()).toBe(1);
  });
});
