import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { type AssembleOptions, createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import { drainReplays, replayClient } from '../http/replay-harness.js';
import { countRows, dayMs, hourMs, rawSql, retentionOf } from '../store/retention-harness.js';
import { deliveriesOf, eventually, resource, subscribe } from './helpers.js';
import { keyedReceiver } from './ordering-harness.js';

/** An event of the test resource whose subject is `/party/<key>`. */
const keyed = (id: string, key: string) => sampleEvent({ id, resource, subject: `/party/${key}` });

const subjectKey = (event: Record<string, unknown>) =>
  typeof event.subject === 'string' ? event.subject.replace('/party/', '') : undefined;

/**
 * Replays and backfills of ordered subscriptions (docs/ordering.md, docs/replay.md): a replayed delivery carries
 * its key and queues behind the key's earlier deliveries, live or replayed, one in flight per key.
 */
describeEachEngine('Replays of ordered subscriptions on $name', (engine) => {
  let t: TestApp;
  let receiver: Receiver;
  let client: ReturnType<typeof replayClient>;

  // Ladder in tests: first try, then 1 s and 2 s later (3 attempts). Small pieces, so a replay takes many.
  const start = async (replayer: AssembleOptions['replayer'] = { piece: { events: 4 } }) => {
    t = await createTestApp(engine, undefined, { schedule: [1_000, 2_000], timeoutMs: 2_000, replayer });
    client = replayClient(t, t.auth);
  };
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await t?.close();
    await receiver?.close();
  });

  const arrived = (key: string) => receiver.events().filter((r) => subjectKey(r.json) === key).map((r) => r.json.id);
  const statuses = async (subscriptionId: number) =>
    (await deliveriesOf(t, subscriptionId)).map((d) => [d.eventId, d.status, d.replayId === undefined ? 'live' : 'replayed']);
  /** Per key, the event ids of the subscription's deliveries in the order they were created (delivery ids). */
  const createdPerKey = async (subscriptionId: number) => {
    const rows = await rawSql<{ id: string; subject: string }>(
      engine,
      t.db.database,
      'SELECT e.id, e.subject FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.subscription_id = $1 ORDER BY d.id',
      [subscriptionId],
    );
    const perKey = new Map<string, string[]>();
    for (const row of rows) {
      const key = row.subject.replace('/party/', '');
      perKey.set(key, [...(perKey.get(key) ?? []), row.id]);
    }
    return perKey;
  };

  it('sends a replay one event per key at a time, each key in creation order: live events first, the replay in log order, events published meanwhile between its pieces', async () => {
    await start();
    const { behaviour, arrivals } = keyedReceiver(subjectKey, { holdMs: 15 });
    receiver.behave(behaviour);
    const subscription = await subscribe(t, receiver.url, { ordering: 'subject' });
    const keys = ['a', 'b', 'c'];
    const logOrder = new Map(keys.map((key) => [key, [] as string[]]));
    const batch = (name: string, perKey: number) =>
      Array.from({ length: perKey * keys.length }, (_, i) => {
        const key = keys[i % keys.length] as string;
        const id = `${key}-${name}${Math.floor(i / keys.length)}`;
        logOrder.get(key)?.push(id);
        return keyed(id, key);
      });
    const replayed = batch('old', 4);
    await client.publish(...replayed);
    t.dispatcher.start();
    // The replay starts while the live events are still going out: its events queue behind them.
    const replay = await client.start(subscription.id, { after: '0' });
    expect(replay.events).toBe(12);
    expect(await t.replayer.runOnce()).toBe(1);
    // Published between two pieces of the replay.
    await client.publish(...batch('new', 2));
    await drainReplays(t);
    expect((await client.get(subscription.id, replay.id)).json()).toMatchObject({ status: 'completed', enqueued: 12 });
    await eventually(() => arrivals.answered === 12 + 12 + 6, 20_000);

    const created = await createdPerKey(subscription.id);
    for (const key of keys) {
      const arrivedOfKey = arrivals.byKey.get(key) ?? [];
      expect(arrivedOfKey, `key ${key}`).toEqual(created.get(key));
      expect(arrivals.mostInFlightPerKey.get(key), `key ${key}`).toBe(1);
      // The live events in log order, then the replayed ones in log order, with what was published meanwhile
      // among them: taken out, the replay's own are the log's.
      const replayedOfKey = (logOrder.get(key) ?? []).filter((id) => id.includes('-old'));
      expect(arrivedOfKey.slice(0, replayedOfKey.length), `key ${key}`).toEqual(replayedOfKey);
      expect(arrivedOfKey.slice(replayedOfKey.length).filter((id) => id.includes('-old')), `key ${key}`).toEqual(replayedOfKey);
    }
    expect(arrivals.mostInFlight, 'different keys went in parallel').toBeGreaterThan(1);
  });

  it('holds a replayed event behind its key while the key fails, and only that key: the replay and the other keys go on', async () => {
    // At most 3 deliveries ahead: the failing key's waiting events must not count, or the replay would stall.
    await start({ piece: { events: 1_000, queuedAhead: 3 } });
    let aFails = true;
    receiver.behave((request) => ({ status: aFails && subjectKey(request.json) === 'a' ? 500 : 200 }));
    const subscription = await subscribe(t, receiver.url, { ordering: 'subject' });
    await client.publish(keyed('a1', 'a'), keyed('a2', 'a'), keyed('b1', 'b'), keyed('b2', 'b'));
    await t.dispatcher.runOnce();
    expect(arrived('a')).toEqual(['a1']);

    const replay = await client.start(subscription.id, { after: '0' });
    await drainReplays(t);
    expect((await client.get(subscription.id, replay.id)).json()).toMatchObject({ status: 'completed', enqueued: 4 });
    // The replayed a1 and a2 wait, not due, behind a1 being retried.
    for (const d of (await deliveriesOf(t, subscription.id)).filter((d) => d.replayId !== undefined && String(d.eventId).startsWith('a'))) {
      expect(d).toMatchObject({ status: 'pending', attempts: 0 });
      expect(d).not.toHaveProperty('nextAttemptAt');
    }
    for (let round = 0; round < 4; round++) await t.dispatcher.runOnce();
    expect(arrived('b')).toEqual(['b1', 'b2', 'b1', 'b2']);
    expect(arrived('a')).toEqual(['a1']);

    // a1's ladder runs out: dead, the key moves on (skip) to a2, then to the replayed a1 and a2.
    t.clock.advance(1_100);
    await t.dispatcher.runOnce();
    t.clock.advance(2_200);
    await t.dispatcher.runOnce();
    aFails = false;
    for (let round = 0; round < 4; round++) await t.dispatcher.runOnce();
    expect(arrived('a')).toEqual(['a1', 'a1', 'a1', 'a2', 'a1', 'a2']);
    expect(await statuses(subscription.id)).toEqual([
      ['a1', 'dead', 'live'],
      ['a2', 'delivered', 'live'],
      ['b1', 'delivered', 'live'],
      ['b2', 'delivered', 'live'],
      ['a1', 'delivered', 'replayed'],
      ['a2', 'delivered', 'replayed'],
      ['b1', 'delivered', 'replayed'],
      ['b2', 'delivered', 'replayed'],
    ]);
  });

  it("holds the replayed events of a key that 'onDeadLetter': 'block' stopped until its dead letter is redriven, other keys' going on", async () => {
    await start({ piece: { events: 1_000, queuedAhead: 3 } });
    let aFails = true;
    receiver.behave((request) => ({ status: aFails && subjectKey(request.json) === 'a' ? 500 : 200 }));
    const subscription = await subscribe(t, receiver.url, { ordering: 'subject', onDeadLetter: 'block' });
    await client.publish(keyed('a1', 'a'), keyed('a2', 'a'), keyed('b1', 'b'));
    for (const wait of [0, 1_100, 2_200]) {
      t.clock.advance(wait);
      await t.dispatcher.runOnce();
    }
    aFails = false;
    expect(arrived('a')).toEqual(['a1', 'a1', 'a1']);

    const replay = await client.start(subscription.id, { after: '0' });
    await drainReplays(t);
    expect((await client.get(subscription.id, replay.id)).json()).toMatchObject({ status: 'completed', enqueued: 3 });
    t.clock.advance(60_000);
    for (let round = 0; round < 3; round++) await t.dispatcher.runOnce();
    expect(arrived('a')).toEqual(['a1', 'a1', 'a1']);
    expect(arrived('b')).toEqual(['b1', 'b1']);

    // Redriven, the dead letter goes first, then the key's waiting events as they were created.
    const redriven = await t.app.inject({ method: 'POST', url: `/events/api/v1/subscriptions/${subscription.id}/deliveries/redrive`, headers: t.auth });
    expect(redriven.json()).toEqual({ redriven: 1 });
    for (let round = 0; round < 5; round++) await t.dispatcher.runOnce();
    expect(arrived('a')).toEqual(['a1', 'a1', 'a1', 'a1', 'a2', 'a1', 'a2']);
  });

  it('keys a replayed event as publishing keys it, a partitionkey of any JSON type included', async () => {
    await start();
    receiver.behave(() => ({ status: 200 }));
    const subscription = await subscribe(t, receiver.url, { ordering: 'partitionkey' });
    await client.publish(
      sampleEvent({ id: 'p1', resource, partitionkey: 7 }),
      sampleEvent({ id: 'p2', resource, partitionkey: 'seven' }),
      sampleEvent({ id: 'p3', resource, partitionkey: true }),
      sampleEvent({ id: 'n1', resource }),
    );
    // Nothing sent yet: every live event is its key's head, and each replayed one waits behind it.
    await client.start(subscription.id, { after: '0' });
    await drainReplays(t);
    const due = (await deliveriesOf(t, subscription.id)).map((d) => [d.eventId, d.replayId === undefined ? 'live' : 'replayed', 'nextAttemptAt' in d]);
    expect(due).toEqual([
      ['p1', 'live', true],
      ['p2', 'live', true],
      ['p3', 'live', true],
      ['n1', 'live', true],
      ['p1', 'replayed', false],
      ['p2', 'replayed', false],
      ['p3', 'replayed', false],
      // Without the key: unordered, due at once.
      ['n1', 'replayed', true],
    ]);
    await t.dispatcher.runOnce();
    expect(receiver.events().map((r) => r.json.id).sort()).toEqual(['n1', 'n1', 'p1', 'p2', 'p3']);
    await t.dispatcher.runOnce();
    expect(receiver.events().map((r) => r.json.id).slice(5).sort()).toEqual(['p1', 'p2', 'p3']);
  });

  it('backfills an ordered subscription (startFrom) one event per key at a time, behind what its key received live first', async () => {
    await start();
    const { behaviour, arrivals } = keyedReceiver(subjectKey, { holdMs: 5 });
    receiver.behave(behaviour);
    await client.publish(keyed('a1', 'a'), keyed('a2', 'a'), keyed('b1', 'b'), keyed('b2', 'b'), keyed('b3', 'b'));
    const created = await client.subscribe({ endPoint: receiver.url, resourceFilter: resource, ordering: 'subject', startFrom: '0' });
    expect(created.statusCode, created.body).toBe(201);
    const { id, backfill } = created.json() as { id: number; backfill: { id: number } };
    await t.dispatcher.runOnce();
    // Published once the subscription receives, before the backfill starts: it goes first for its key.
    await client.publish(keyed('a3', 'a'));
    t.clock.advance(2_000);
    await drainReplays(t);
    expect((await client.get(id, backfill.id)).json()).toMatchObject({ status: 'completed', enqueued: 6 });
    for (let round = 0; round < 4; round++) await t.dispatcher.runOnce();
    expect(arrivals.byKey.get('a')).toEqual(['a3', 'a1', 'a2', 'a3']);
    expect(arrivals.byKey.get('b')).toEqual(['b1', 'b2', 'b3']);
    expect(arrivals.mostInFlightPerKey.get('a')).toBe(1);
    expect(arrivals.mostInFlightPerKey.get('b')).toBe(1);
  });
  it('moves a key on when retention removes its replayed head with its old event', async () => {
    await start();
    receiver.behave(() => ({ status: 200 }));
    const retention = retentionOf(t);
    const subscription = await subscribe(t, receiver.url, { ordering: 'subject' });
    await client.publish(keyed('old', 'a'));
    await t.dispatcher.runOnce();
    await retention.runOnce();
    // More than a partition's span later (PostgreSQL), so old and young lie in different partitions.
    t.clock.advance(8 * dayMs);
    await retention.runOnce();
    await client.publish(keyed('young', 'a'));
    await t.dispatcher.runOnce();
    // Replayed, not yet sent: old is its key's head, young waits behind it.
    await client.start(subscription.id, { after: '0' });
    await drainReplays(t);
    expect(await statuses(subscription.id)).toEqual([
      ['old', 'delivered', 'live'],
      ['young', 'delivered', 'live'],
      ['old', 'pending', 'replayed'],
      ['young', 'pending', 'replayed'],
    ]);
    t.clock.advance(90 * dayMs + hourMs);
    await retention.runOnce();
    expect(await countRows(engine, t.db.database, 'events')).toBe(1);
    await t.dispatcher.runOnce();
    expect(receiver.events().map((r) => r.json.id)).toEqual(['old', 'young', 'young']);
  });
  it('queues a replay to a pull subscription, which takes no ordering, after what it holds, with events published meanwhile between its pieces', async () => {
    await start({ piece: { events: 1 } });
    const created = await client.subscribe({ resourceFilter: resource, ordering: 'subject' });
    expect(created.statusCode, created.body).toBe(400);
    const subscription = (await client.subscribe({ resourceFilter: resource })).json() as { id: number };
    await client.publish(keyed('q1', 'a'), keyed('q2', 'a'));
    await client.start(subscription.id, { after: '0' });
    expect(await t.replayer.runOnce()).toBe(1);
    await client.publish(keyed('q3', 'a'));
    await drainReplays(t);
    const page = await t.app.inject({ url: `/events/api/v1/subscriptions/${subscription.id}/events`, headers: t.auth });
    expect((page.json() as { events: { id: string }[] }).events.map((e) => e.id)).toEqual(['q1', 'q2', 'q1', 'q3', 'q2']);
    const keyedRows = await rawSql(engine, t.db.database, 'SELECT id FROM deliveries WHERE ordering_key IS NOT NULL');
    expect(keyedRows).toEqual([]);
  });
});
