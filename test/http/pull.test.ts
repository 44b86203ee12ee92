import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeEachEngine } from '../support/engines.js';
import { assembleHerald, createTestApp, type TestApp } from '../support/test-app.js';
import { eventsPath, expectProblem, recordingInject } from './harness.js';
import { idsOf, type Page, pullClient, pullEvent, pullResource } from './pull-harness.js';

const inactivityMs = 5_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The store with its first empty queue read held back (after the read, before the route sees the result)
 * until released: the moment an event can be queued between the read and the start of the wait.
 */
function holdFirstEmptyRead(store: Store) {
  let armed = false;
  let reached = () => {};
  let release = () => {};
  const held = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const pull = Object.create(store.pull) as Store['pull'];
  pull.read = async (...args) => {
    const rows = await store.pull.read(...args);
    if (armed && rows.length === 0) {
      armed = false;
      reached();
      await released;
    }
    return rows;
  };
  const gated = new Proxy(store, { get: (target, name) => (name === 'pull' ? pull : Reflect.get(target, name, target)) });
  return { store: gated, arm: () => (armed = true), held, release };
}

describeEachEngine('Pull subscriptions on $name', (engine) => {
  let t: TestApp;
  let http: ReturnType<typeof recordingInject>;
  let c: ReturnType<typeof pullClient>;
  beforeEach(async () => {
    t = await createTestApp(engine, undefined, { inactivityMs });
    http = recordingInject(t.app);
    c = pullClient(http.inject, t.auth);
  });
  afterEach(async () => {
    expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
    await t?.close();
  });

  describe('reading and acknowledging', () => {
    it('serves exactly the stored structured events, in commit order, and only matching ones', async () => {
      const id = await c.subscribe();
      const events = [
        pullEvent('a1', { subject: '/party/1', data: { nested: [1, 'two', null], ok: true }, datacontenttype: 'application/json' }),
        pullEvent('a2', { alternativesubject: '/person/01017012345', myextension: 'x' }),
      ];
      await c.publish(...events);
      await c.publish(pullEvent('elsewhere', { resource: 'urn:altinn:resource:herald.other' }));
      // A batch of several: PostgreSQL may join a batch's rows in any order unless told otherwise.
      const batch = [3, 4, 5, 6, 7, 8, 9, 10].map((n) => pullEvent(`a${n}`, { data: n }));
      await c.publish(...batch);
      await c.publish(events[0]!); // the same event again is not stored, so not queued, twice
      const page = await c.page(id);
      expect(page.events).toEqual([...events, ...batch]);
      const logged = await http.inject({ method: 'GET', url: `${eventsPath}?after=0&resource=${pullResource}`, headers: t.auth });
      expect(page.events).toEqual(logged.json());
    });

    it('pages by limit, acknowledges with the checkpoint, and drains to an empty page', async () => {
      const id = await c.subscribe();
      await c.publish('p1', 'p2', 'p3', 'p4', 'p5');
      expect(idsOf(await c.page(id))).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
      const first = await c.page(id, { limit: 2 });
      expect(idsOf(first)).toEqual(['p1', 'p2']);
      const second = await c.page(id, { limit: 2, checkPoint: first.checkPoint });
      expect(idsOf(second)).toEqual(['p3', 'p4']);
      const third = await c.page(id, { limit: 2, checkPoint: second.checkPoint });
      expect(idsOf(third)).toEqual(['p5']);
      const drained = await c.page(id, { limit: 2, checkPoint: third.checkPoint });
      expect(drained.events).toEqual([]);
      // The empty page's checkpoint stands where the queue was drained: it acknowledges nothing new.
      expect((await c.page(id, { checkPoint: drained.checkPoint })).events).toEqual([]);
      expect((await c.page(id)).events).toEqual([]);
      await c.publish('p6');
      expect(idsOf(await c.page(id, { checkPoint: drained.checkPoint }))).toEqual(['p6']);
    });

    it('serves a page never acknowledged again, and takes the same checkpoint twice harmlessly', async () => {
      const id = await c.subscribe();
      await c.publish('r1', 'r2', 'r3', 'r4', 'r5');
      const first = await c.page(id, { limit: 2 });
      expect(idsOf(await c.page(id, { limit: 2 }))).toEqual(['r1', 'r2']);
      const second = await c.page(id, { limit: 2, checkPoint: first.checkPoint });
      // The client lost the answer: it asks again with the same checkpoint and gets the same page.
      const again = await c.page(id, { limit: 2, checkPoint: first.checkPoint });
      expect(idsOf(again)).toEqual(['r3', 'r4']);
      expect(again.checkPoint).toBe(second.checkPoint);
      expect(idsOf(await c.page(id, { limit: 2 }))).toEqual(['r3', 'r4']);
      expect(idsOf(await c.page(id, { limit: 2, checkPoint: second.checkPoint }))).toEqual(['r5']);
    });

    it('never moves the position back for an older checkpoint', async () => {
      const id = await c.subscribe();
      await c.publish('o1', 'o2', 'o3', 'o4', 'o5', 'o6');
      const first = await c.page(id, { limit: 2 });
      const second = await c.page(id, { limit: 2, checkPoint: first.checkPoint });
      const third = await c.page(id, { limit: 2, checkPoint: second.checkPoint });
      expect(idsOf(third)).toEqual(['o5', 'o6']);
      const stale = await c.page(id, { limit: 2, checkPoint: first.checkPoint });
      expect(idsOf(stale)).toEqual(['o5', 'o6']);
      expect(idsOf(await c.page(id, { limit: 2 }))).toEqual(['o5', 'o6']);
    });

    it('is active at once, gets no handshake, and the dispatcher leases none of its rows', async () => {
      const created = await http.inject({ method: 'POST', url: '/events/api/v1/subscriptions', headers: t.auth, payload: { resourceFilter: pullResource } });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toMatchObject({ status: 'active', validated: true });
      expect(created.json()).not.toHaveProperty('endPoint');
      const { id } = created.json() as { id: number };
      expect(await t.dispatcher.runOnce()).toBe(0);
      await c.publish('d1', 'd2');
      t.clock.advance(60_000);
      expect(await t.dispatcher.runOnce()).toBe(0);
      const rows = await c.deliveries(id);
      expect(rows.map((d) => d.eventId)).toEqual(['d1', 'd2']);
      for (const row of rows) {
        expect(row).toMatchObject({ status: 'pending', attempts: 0 });
        expect(row).not.toHaveProperty('nextAttemptAt');
      }
      expect(idsOf(await c.page(id))).toEqual(['d1', 'd2']);
    });

    it('refuses to validate, rotate the secret of, or ping a pull subscription alike: 409 events:pushOnly, nothing changed', async () => {
      const id = await c.subscribe();
      const before = await t.store.subscriptions.get(id);
      for (const action of ['validate', 'secret/rotate', 'ping']) {
        const answer = await http.inject({ method: 'POST', url: `/events/api/v1/subscriptions/${id}/${action}`, headers: t.auth, payload: {} });
        expect(answer.statusCode, `${action}: ${answer.body}`).toBe(409);
        expect(answer.json()).toMatchObject({ code: 'events:pushOnly' });
      }
      expect(await t.store.subscriptions.get(id)).toEqual(before);
      expect(await t.dispatcher.runOnce()).toBe(0);
    });
  });

  describe('long polling', () => {
    it('answers a wait as soon as an event is published', async () => {
      const id = await c.subscribe();
      const started = Date.now();
      const waiting = c.page(id, { wait: 5 });
      await sleep(200);
      await c.publish('w1');
      const page = await waiting;
      expect(idsOf(page)).toEqual(['w1']);
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    it('answers an empty page when the wait ends, unmoved by other subscriptions’ events', async () => {
      const id = await c.subscribe();
      const other = await c.subscribe({ resourceFilter: 'urn:altinn:resource:herald.other' });
      const started = Date.now();
      const waiting = c.page(id, { wait: 1 });
      await sleep(100);
      await c.publish(pullEvent('not-mine', { resource: 'urn:altinn:resource:herald.other' }));
      const page = await waiting;
      const elapsed = Date.now() - started;
      expect(page.events).toEqual([]);
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(3_000);
      expect(idsOf(await c.page(other))).toEqual(['not-mine']);
    });

    it('does not wait when events are queued', async () => {
      const id = await c.subscribe();
      await c.publish('q1');
      const started = Date.now();
      expect(idsOf(await c.page(id, { wait: 30 }))).toEqual(['q1']);
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    it('wakes for an event queued between its empty read and the start of its wait', async () => {
      const gate = holdFirstEmptyRead(await t.db.open());
      const herald = await assembleHerald(gate.store);
      try {
        const gated = pullClient(herald.app, t.auth);
        const id = await gated.subscribe();
        gate.arm();
        const started = Date.now();
        const waiting = gated.page(id, { wait: 5 });
        await gate.held;
        await gated.publish('between');
        gate.release();
        expect(idsOf(await waiting)).toEqual(['between']);
        expect(Date.now() - started).toBeLessThan(3_000);
      } finally {
        await herald.close();
      }
    });

    it.runIf(engine.name === 'postgres')('wakes for an event another process publishes', async () => {
      const id = await c.subscribe();
      const herald = await assembleHerald(await t.db.open());
      try {
        const started = Date.now();
        const waiting = pullClient(herald.app, t.auth).page(id, { wait: 5 });
        await sleep(300);
        await c.publish('from-a');
        expect(idsOf(await waiting)).toEqual(['from-a']);
        expect(Date.now() - started).toBeLessThan(3_000);
      } finally {
        await herald.close();
      }
    });
  });

  describe('inactivity and cleanup', () => {
    it('goes inactive unread, keeps queueing, refuses old checkpoints and recovers without one', async () => {
      const id = await c.subscribe();
      const recent = await c.subscribe({ resourceFilter: pullResource, subjectFilter: '/party/1' });
      const neverRead = await c.subscribe({ resourceFilter: pullResource, subjectFilter: '/party/2' });
      await c.publish('i1', 'i2', 'i3');
      const first = await c.page(id, { limit: 2 });
      const second = await c.page(id, { limit: 2, checkPoint: first.checkPoint });
      expect(idsOf(second)).toEqual(['i3']);

      t.clock.advance(inactivityMs - 1_000);
      await c.page(recent);
      t.clock.advance(2_000);
      expect(await t.maintenance.runOnce()).toMatchObject({ inactivated: 2 });
      expect(await c.subscription(id)).toMatchObject({ status: 'inactive' });
      expect(await c.subscription(neverRead)).toMatchObject({ status: 'inactive' });
      expect(await c.subscription(recent)).toMatchObject({ status: 'active' });

      await c.publish('i4');
      expect((await c.deliveries(id)).map((d) => d.eventId)).toContain('i4');
      for (const old of [first.checkPoint, second.checkPoint]) {
        const body = expectProblem(await c.read(id, { checkPoint: old }), 400, 'events:checkpointOutOfRange');
        expect(body.detail).toMatch(/without a checkPoint/);
      }
      expect(await c.subscription(id)).toMatchObject({ status: 'inactive' });

      const restarted = await c.page(id);
      expect(idsOf(restarted)).toEqual(['i3', 'i4']);
      expect(await c.subscription(id)).toMatchObject({ status: 'active' });
      // Old checkpoints stay out of range for good; the new one acknowledges.
      expectProblem(await c.read(id, { checkPoint: second.checkPoint }), 400, 'events:checkpointOutOfRange');
      expect((await c.page(id, { checkPoint: restarted.checkPoint })).events).toEqual([]);
      expect(await t.maintenance.runOnce()).toMatchObject({ inactivated: 0 });
    });

    it('removes acknowledged rows and nothing still queued', async () => {
      const id = await c.subscribe();
      const untouched = await c.subscribe({ resourceFilter: pullResource, typeFilter: 'no.altinn.events.digitalt-dodsbo.opprettet' });
      await c.publish('m1', 'm2', 'm3', 'm4', 'm5');
      const first = await c.page(id, { limit: 3 });
      expect(idsOf(await c.page(id, { limit: 3, checkPoint: first.checkPoint }))).toEqual(['m4', 'm5']);
      expect(await c.deliveries(id)).toHaveLength(5);

      expect(await t.maintenance.runOnce()).toEqual({ inactivated: 0, removed: 3 });
      expect((await c.deliveries(id)).map((d) => d.eventId)).toEqual(['m4', 'm5']);
      expect(await c.deliveries(untouched)).toHaveLength(5);
      expect(idsOf(await c.page(id))).toEqual(['m4', 'm5']);
      expect(idsOf(await c.page(untouched))).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);

      const drained = await c.page(id, { checkPoint: (await c.page(id)).checkPoint });
      expect(drained.events).toEqual([]);
      await t.maintenance.runOnce();
      expect(await c.deliveries(id)).toEqual([]);
      // Queue positions are never reused after removal: new events are not taken for acknowledged ones.
      await c.publish('m6');
      expect(idsOf(await c.page(id, { checkPoint: drained.checkPoint }))).toEqual(['m6']);
    });
  });

  it('loses no event to two consumers racing on one subscription from two processes', async () => {
    const id = await c.subscribe();
    const herald = await assembleHerald(await t.db.open());
    try {
      const readers = [c, pullClient(herald.app, t.auth)];
      const published: string[] = [];
      const seen = new Set<string>();
      const checkpoints: (string | undefined)[] = [undefined, undefined];
      const lastSeen = [-1, -1];
      let earliestQueued = 0;
      const step = async (reader: number, limit: number): Promise<Page> => {
        const page = await readers[reader]!.page(id, { limit, checkPoint: checkpoints[reader] });
        const positions = idsOf(page).map((e) => published.indexOf(e));
        // Each reader's events only ever move forward: what it acknowledged is never served to it again.
        for (const position of positions) {
          expect(position).toBeGreaterThan(lastSeen[reader]!);
          lastSeen[reader] = position;
        }
        idsOf(page).forEach((e) => seen.add(e));
        checkpoints[reader] = page.checkPoint;
        return page;
      };
      for (let round = 0; round < 10; round++) {
        const batch = [1, 2, 3].map((n) => `race-${round}-${n}`);
        published.push(...batch);
        await readers[round % 2]!.publish(...batch);
        await Promise.all([step(0, 2 + (round % 2)), step(1, 3)]);
        // The acknowledged position, seen as the earliest event still queued, never moves back.
        const probe = await c.page(id, { limit: 1 });
        const earliest = probe.events.length === 0 ? published.length : published.indexOf(idsOf(probe)[0]!);
        expect(earliest).toBeGreaterThanOrEqual(earliestQueued);
        earliestQueued = earliest;
      }
      for (let guard = 0; guard < 50; guard++) {
        const pages = await Promise.all([step(0, 4), step(1, 4)]);
        if (pages.every((p) => p.events.length === 0)) break;
      }
      expect((await c.page(id)).events).toEqual([]);
      expect([...seen].sort()).toEqual([...published].sort());
    } finally {
      await herald.close();
    }
  });
});
