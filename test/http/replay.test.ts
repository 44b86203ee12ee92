import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { drainReplays, instantBetween, otherResource, replayClient, replayEvent, replayResource } from './replay-harness.js';

describeEachEngine('Replay on $name', (engine) => {
  let t: TestApp;
  let receiver: Receiver;
  let client: ReturnType<typeof replayClient>;
  beforeEach(async () => {
    t = await createTestApp(engine, undefined, { schedule: [1_000], timeoutMs: 1_000 });
    receiver = await startReceiver();
    client = replayClient(t, t.auth);
  });
  afterEach(async () => {
    await t?.close();
    await receiver?.close();
  });

  /** A validated push subscription to the replay resource, with `filters` besides. */
  async function pushSubscription(filters: Record<string, unknown> = {}) {
    const created = await client.subscribe({ endPoint: receiver.url, resourceFilter: replayResource, ...filters });
    expect(created.statusCode, created.body).toBe(201);
    await t.dispatcher.runOnce();
    return created.json() as { id: number; secret: string };
  }

  it('counts in a dry run exactly what the replay then delivers: new, signed deliveries with the events unchanged', async () => {
    const subscription = await pushSubscription({ typeFilter: 'a.created' });
    await client.publish(
      replayEvent('e1', { type: 'a.created' }),
      replayEvent('e2', { type: 'a.deleted' }),
      replayEvent('e3', { type: 'a.created', resource: otherResource }),
      replayEvent('e4', { type: 'a.created' }),
    );
    await t.dispatcher.runOnce();
    const live = receiver.events();
    expect(live.map((r) => r.json.id)).toEqual(['e1', 'e4']);

    expect(await client.count(subscription.id, { after: '0' })).toBe(2);
    const replay = await client.start(subscription.id, { after: '0' });
    expect(replay).toMatchObject({ status: 'running', events: 2, enqueued: 0, after: '0' });
    expect(await drainReplays(t)).toBeGreaterThan(0);
    await t.dispatcher.runOnce();

    const replayed = receiver.events().slice(live.length);
    expect(replayed.map((r) => r.json.id).sort()).toEqual(['e1', 'e4']);
    const webhook = new Webhook(subscription.secret);
    for (const request of replayed) {
      const verified = webhook.verify(request.body, request.headers as Record<string, string>) as Record<string, unknown>;
      const original = live.find((r) => r.json.id === verified.id);
      // The event exactly as stored, so a receiver deduplicating on (source, id) recognizes it…
      expect(request.body).toBe(original?.body);
      // …and a new delivery, so one deduplicating on webhook-id does not drop it.
      expect(request.headers['webhook-id']).not.toBe(original?.headers['webhook-id']);
    }
    const done = (await client.get(subscription.id, replay.id)).json();
    expect(done).toMatchObject({ status: 'completed', events: 2, enqueued: 2, finished: expect.any(String) });
    // The delivery log tells the replayed deliveries from the first ones, queued in log order.
    const deliveries = await client.deliveries(subscription.id);
    expect(deliveries.map((d) => [d.eventId, d.replayId ?? null, d.status])).toEqual([
      ['e1', null, 'delivered'],
      ['e4', null, 'delivered'],
      ['e1', replay.id, 'delivered'],
      ['e4', replay.id, 'delivered'],
    ]);
  });

  it('selects by when Herald stored the events: from, until, after an id or a position, and the default end', async () => {
    const subscription = await pushSubscription();
    await client.publish('a1', 'a2');
    const t1 = await instantBetween();
    await client.publish('b1', 'b2', 'b3');
    const t2 = await instantBetween();
    await client.publish('c1');
    await t.dispatcher.runOnce();

    expect(await client.count(subscription.id, { from: t1 })).toBe(4);
    expect(await client.count(subscription.id, { from: t1, until: t2 })).toBe(3);
    expect(await client.count(subscription.id, { from: '2000-01-01T00:00:00Z', until: t1 })).toBe(2);
    expect(await client.count(subscription.id, { from: t2, until: t2 })).toBe(0);
    expect(await client.count(subscription.id, { from: '2999-01-01T00:00:00+02:00' })).toBe(0);
    expect(await client.count(subscription.id, { after: 'a2' })).toBe(4);
    expect(await client.count(subscription.id, { after: 'a2', until: t2 })).toBe(3);
    expect(await client.count(subscription.id, { after: '0', until: '2999-01-01T00:00:00Z' })).toBe(6);

    // A range's positions, as a poll's `after` takes them, start a later replay where it ended.
    const first = await client.start(subscription.id, { from: t1, until: t2 });
    expect(first).toMatchObject({ events: 3, from: t1, until: t2 });
    expect(await client.count(subscription.id, { after: first.range.through })).toBe(1);
    expect(await client.count(subscription.id, { after: first.range.after })).toBe(4);

    await drainReplays(t);
    await t.dispatcher.runOnce();
    expect(receiver.events().slice(6).map((r) => r.json.id).sort()).toEqual(['b1', 'b2', 'b3']);
  });

  it('leaves out events published after the request: the default end is the log as the request found it', async () => {
    const subscription = await pushSubscription();
    await client.publish('before-1', 'before-2');
    await t.dispatcher.runOnce();
    expect(await client.count(subscription.id, { after: '0' })).toBe(2);
    const replay = await client.start(subscription.id, { after: '0' });
    await client.publish('after-1');
    await drainReplays(t);
    await t.dispatcher.runOnce();
    const ids = receiver.events().map((r) => r.json.id);
    // after-1 arrives once, as published; the replay sends the two it counted.
    expect(ids.filter((id) => id === 'after-1')).toHaveLength(1);
    expect(ids.filter((id) => id === 'before-1')).toHaveLength(2);
    expect((await client.get(subscription.id, replay.id)).json()).toMatchObject({ status: 'completed', events: 2, enqueued: 2 });
  });

  it("puts the events in a pull subscription's queue, in log order, after what it had", async () => {
    const created = await client.subscribe({ resourceFilter: replayResource });
    const id = (created.json() as { id: number }).id;
    await client.publish('p1', 'p2', replayEvent('x', { resource: otherResource }), 'p3');
    const read = async (checkPoint?: string) => {
      const response = await t.app.inject({
        url: `/events/api/v1/subscriptions/${id}/events${checkPoint ? `?checkPoint=${encodeURIComponent(checkPoint)}` : ''}`,
        headers: t.auth,
      });
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as { checkPoint: string; events: { id: string }[] };
    };
    const first = await read();
    expect(first.events.map((e) => e.id)).toEqual(['p1', 'p2', 'p3']);
    expect((await read(first.checkPoint)).events).toEqual([]);

    expect(await client.count(id, { after: 'p1' })).toBe(2);
    await client.start(id, { after: 'p1' });
    await drainReplays(t);
    const again = await read(first.checkPoint);
    expect(again.events.map((e) => e.id)).toEqual(['p2', 'p3']);
  });
});
