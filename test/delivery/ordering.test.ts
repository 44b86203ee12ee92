import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import { countRows, dayMs, hourMs, rawSql, retentionOf } from '../store/retention-harness.js';
import { deliveriesOf, eventually, resource, subscribe } from './helpers.js';
import { keyedReceiver } from './ordering-harness.js';

/** An event of the test resource: `key` is its subject (or, with `by: 'partitionkey'`, its partitionkey). */
const keyed = (id: string, key: string | undefined, by: 'subject' | 'partitionkey' = 'subject') =>
  sampleEvent({ id, resource, ...(key === undefined ? {} : { [by]: by === 'subject' ? `/party/${key}` : key }) });

const subjectKey = (event: Record<string, unknown>) =>
  typeof event.subject === 'string' ? event.subject.replace('/party/', '') : undefined;

describeEachEngine('Ordered delivery per key on $name', (engine) => {
  let t: TestApp;
  let receiver: Receiver;
  beforeEach(async () => {
    // Ladder in tests: first try, then 1 s and 2 s later (3 attempts).
    t = await createTestApp(engine, undefined, { schedule: [1_000, 2_000], timeoutMs: 2_000 });
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await t?.close();
    await receiver?.close();
  });

  const publish = async (...events: Record<string, unknown>[]) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { ...t.auth, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify(events),
    });
    expect(response.statusCode, response.body).toBe(200);
  };
  const arrived = (key: string) => receiver.events().filter((r) => subjectKey(r.json) === key).map((r) => r.json.id);
  const redrive = async (subscriptionId: number) =>
    (await t.app.inject({ method: 'POST', url: `/events/api/v1/subscriptions/${subscriptionId}/deliveries/redrive`, headers: t.auth })).json();
  const statuses = async (subscriptionId: number) =>
    Object.fromEntries((await deliveriesOf(t, subscriptionId)).map((d) => [d.eventId, d.status]));

  it.each(['subject', 'partitionkey'] as const)(
    'delivers the events of one %s one at a time in log order, while different keys overlap',
    async (by) => {
      const keyOf = (event: Record<string, unknown>) => (by === 'subject' ? subjectKey(event) : (event.partitionkey as string | undefined));
      const { behaviour, arrivals } = keyedReceiver(keyOf, { holdMs: 25 });
      receiver.behave(behaviour);
      await subscribe(t, receiver.url, { ordering: by });
      t.dispatcher.start();
      const keys = ['a', 'b', 'c'];
      const published: Record<string, string[]> = { a: [], b: [], c: [] };
      // Three publishes while the first keys are already in flight: new events of a busy key must wait too.
      for (let batch = 0; batch < 3; batch++) {
        const events = Array.from({ length: 6 }, (_, i) => {
          const key = keys[i % 3] as string;
          const id = `${key}-${batch}-${i}`;
          published[key]?.push(id);
          return keyed(id, key, by);
        });
        await publish(...events);
      }
      await eventually(() => arrivals.answered === 18, 20_000);
      for (const key of keys) {
        expect(arrivals.byKey.get(key), `key ${key}`).toEqual(published[key]);
        expect(arrivals.mostInFlightPerKey.get(key), `key ${key}`).toBe(1);
      }
      expect(arrivals.mostInFlight, 'different keys are delivered in parallel').toBeGreaterThan(1);
    },
  );

  it('lets a failing key hold back only itself: another key flows; its dead letter then moves the key on', async () => {
    const subscription = await subscribe(t, receiver.url, { ordering: 'subject' });
    receiver.behave((request) => ({ status: subjectKey(request.json) === 'a' ? 500 : 200 }));
    await publish(keyed('a1', 'a'), keyed('b1', 'b'), keyed('a2', 'a'), keyed('b2', 'b'), keyed('a3', 'a'), keyed('b3', 'b'));
    for (let round = 0; round < 3; round++) await t.dispatcher.runOnce();
    expect(arrived('b')).toEqual(['b1', 'b2', 'b3']);
    expect(arrived('a')).toEqual(['a1']);
    // The key's later events wait, not due, behind the one being retried.
    const waiting = (await deliveriesOf(t, subscription.id)).filter((d) => d.eventId === 'a2' || d.eventId === 'a3');
    expect(waiting).toMatchObject([
      { eventId: 'a2', status: 'pending', attempts: 0 },
      { eventId: 'a3', status: 'pending', attempts: 0 },
    ]);
    for (const d of waiting) expect(d).not.toHaveProperty('nextAttemptAt');

    // The rest of a1's ladder: it is dead after its third attempt, and a2 goes next, then a3.
    t.clock.advance(1_100);
    await t.dispatcher.runOnce();
    t.clock.advance(2_200);
    await t.dispatcher.runOnce();
    expect(arrived('a')).toEqual(['a1', 'a1', 'a1']);
    receiver.behave(() => ({ status: 200 }));
    await t.dispatcher.runOnce();
    await t.dispatcher.runOnce();
    expect(arrived('a')).toEqual(['a1', 'a1', 'a1', 'a2', 'a3']);
    expect(await statuses(subscription.id)).toEqual({ a1: 'dead', a2: 'delivered', a3: 'delivered', b1: 'delivered', b2: 'delivered', b3: 'delivered' });

    // Redriven, the dead letter goes once more, alone: the key's events delivered since are not sent again,
    // and an event published meanwhile waits for it.
    expect(await redrive(subscription.id)).toEqual({ redriven: 1 });
    await publish(keyed('a4', 'a'));
    await t.dispatcher.runOnce();
    await t.dispatcher.runOnce();
    expect(arrived('a')).toEqual(['a1', 'a1', 'a1', 'a2', 'a3', 'a1', 'a4']);
  });

  it("with 'onDeadLetter': 'block', stops the key at its dead letter until it is redriven, then goes on in order", async () => {
    const subscription = await subscribe(t, receiver.url, { ordering: 'subject', onDeadLetter: 'block' });
    receiver.behave((request) => ({ status: subjectKey(request.json) === 'a' ? 500 : 200 }));
    await publish(keyed('a1', 'a'), keyed('a2', 'a'), keyed('b1', 'b'));
    for (const wait of [0, 1_100, 2_200]) {
      t.clock.advance(wait);
      await t.dispatcher.runOnce();
    }
    expect(arrived('a')).toEqual(['a1', 'a1', 'a1']);
    receiver.behave(() => ({ status: 200 }));
    // Dead, and the key stays stopped, for events published since as well; other keys go on.
    await publish(keyed('a3', 'a'), keyed('b2', 'b'));
    t.clock.advance(60_000);
    await t.dispatcher.runOnce();
    await t.dispatcher.runOnce();
    expect(arrived('a')).toEqual(['a1', 'a1', 'a1']);
    expect(arrived('b')).toEqual(['b1', 'b2']);
    expect(await statuses(subscription.id)).toMatchObject({ a1: 'dead', a2: 'pending', a3: 'pending' });

    expect(await redrive(subscription.id)).toEqual({ redriven: 1 });
    for (let round = 0; round < 3; round++) await t.dispatcher.runOnce();
    expect(arrived('a')).toEqual(['a1', 'a1', 'a1', 'a1', 'a2', 'a3']);
  });

  it('delivers events without the key without ordering: they go together, and a failing one holds back none', async () => {
    const subscription = await subscribe(t, receiver.url, { ordering: 'partitionkey' });
    receiver.behave((request) => ({ status: request.json.id === 'n1' ? 500 : 200 }));
    // Subjects do not matter to a subscription ordered by partitionkey.
    await publish(keyed('n1', 'x'), keyed('n2', 'x'), keyed('n3', 'x'), keyed('k1', 'key', 'partitionkey'), keyed('k2', 'key', 'partitionkey'));
    expect(await t.dispatcher.runOnce()).toBe(4);
    expect(receiver.events().map((r) => r.json.id).sort()).toEqual(['k1', 'n1', 'n2', 'n3']);
    await t.dispatcher.runOnce();
    expect(await statuses(subscription.id)).toEqual({ n1: 'failed', n2: 'delivered', n3: 'delivered', k1: 'delivered', k2: 'delivered' });
  });

  it('orders by the partitionkey whatever its JSON type, each subscription by its own key', async () => {
    const bySubject = await subscribe(t, `${receiver.url}/by-subject`, { ordering: 'subject' });
    const byKey = await subscribe(t, `${receiver.url}/by-key`, { ordering: 'partitionkey' });
    receiver.behave(() => ({ status: 200 }));
    // One subject, two partition keys (a number among them): serial for one subscription, parallel for the other.
    await publish(
      sampleEvent({ id: 'p1', resource, subject: '/party/1', partitionkey: 7 }),
      sampleEvent({ id: 'p2', resource, subject: '/party/1', partitionkey: 'seven' }),
      sampleEvent({ id: 'p3', resource, subject: '/party/1', partitionkey: 7 }),
    );
    await t.dispatcher.runOnce();
    expect(await statuses(bySubject.id)).toEqual({ p1: 'delivered', p2: 'pending', p3: 'pending' });
    expect(await statuses(byKey.id)).toEqual({ p1: 'delivered', p2: 'delivered', p3: 'pending' });
    await t.dispatcher.runOnce();
    await t.dispatcher.runOnce();
    expect(await statuses(bySubject.id)).toEqual({ p1: 'delivered', p2: 'delivered', p3: 'delivered' });
    expect(await statuses(byKey.id)).toEqual({ p1: 'delivered', p2: 'delivered', p3: 'delivered' });
  });

  it('moves a key on when its head is recorded by a plain UPDATE, as a process of the previous version records it', async () => {
    const subscription = await subscribe(t, receiver.url, { ordering: 'subject' });
    await publish(keyed('u1', 'a'), keyed('u2', 'a'));
    const [head] = await rawSql<{ id: number }>(engine, t.db.database, 'SELECT id FROM deliveries WHERE next_attempt_at IS NOT NULL');
    await rawSql(engine, t.db.database, "UPDATE deliveries SET status = 'delivered', next_attempt_at = NULL, delivered_at = 1 WHERE id = $1", [
      head?.id,
    ]);
    await t.dispatcher.runOnce();
    expect(receiver.events().map((r) => r.json.id)).toEqual(['u2']);
    expect(await statuses(subscription.id)).toEqual({ u1: 'delivered', u2: 'delivered' });
  });

  it('moves a key on when retention removes its waiting head with its old event', async () => {
    const retention = retentionOf(t);
    const subscription = await subscribe(t, receiver.url, { ordering: 'subject' });
    // Never attempted (the dispatcher does not run): the old head stays pending until retention takes it.
    await publish(keyed('old', 'a'));
    await retention.runOnce();
    // More than a partition's span later (PostgreSQL), so old and young lie in different partitions.
    t.clock.advance(8 * dayMs);
    await retention.runOnce();
    await publish(keyed('young', 'a'));
    t.clock.advance(90 * dayMs + hourMs);
    await retention.runOnce();
    expect(await countRows(engine, t.db.database, 'events')).toBe(1);
    await t.dispatcher.runOnce();
    expect(receiver.events().map((r) => r.json.id)).toEqual(['young']);
    expect(await statuses(subscription.id)).toEqual({ young: 'delivered' });
  });
});
