import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { WebhookSender } from '../../src/delivery/webhook-sender.js';
import type { DeliveryTask } from '../../src/store/records.js';
import type { DeliveryClaim, Store } from '../../src/store/store.js';
import { pullClient } from '../http/pull-harness.js';
import { rawSql } from '../store/retention-harness.js';
import { describeEachEngine, postgresEngine, type TestDatabase } from '../support/engines.js';
import { type Receiver, type ReceiverBehaviour, startReceiver } from '../support/receiver.js';
import { assembleHerald, type HeraldUnderTest, validEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { eventually, publish, resource, subscribe } from './helpers.js';

/** What a claiming process does with a claim; by default it keeps it as the dispatcher made it. */
type ClaimWrapper = (claim: DeliveryClaim) => DeliveryClaim;

interface ClaimingOptions {
  readonly maxInFlight?: number;
  readonly maxPerSubscription?: number;
  readonly timeoutMs?: number;
  readonly owner?: string;
  readonly wrapClaim?: ClaimWrapper;
}

/** A Herald whose dispatcher's claims pass through `handedOff`, so a test sees the claim path was taken. */
interface ClaimingHerald extends HeraldUnderTest {
  readonly handedOff: DeliveryTask[];
  /** The most webhook requests this process had under way at once: what its endpoints felt. */
  mostSending(): number;
}

/**
 * Herald's parts as `server.ts` joins them (publishing asks the dispatcher for a claim), with the dispatcher's
 * limits and owner chosen by the test, its claims recorded and its webhook requests counted. Not started here.
 */
async function assembleClaiming(store: Store, options: ClaimingOptions = {}): Promise<ClaimingHerald> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const sender = new WebhookSender({ timeoutMs, allowPrivateAddresses: true });
  let sending = 0;
  let most = 0;
  const send = sender.send.bind(sender);
  sender.send = async (...args) => {
    most = Math.max(most, ++sending);
    try {
      return await send(...args);
    } finally {
      sending--;
    }
  };
  const handedOff: DeliveryTask[] = [];
  const wrap = options.wrapClaim ?? ((claim) => claim);
  const herald = await assembleHerald(store, {
    timeoutMs,
    sender,
    dispatcher: {
      owner: options.owner,
      maxInFlight: options.maxInFlight,
      maxPerSubscription: options.maxPerSubscription,
      idleWaitMs: 60_000,
    },
    wrapClaim: (made) => {
      const wrapped = wrap(made);
      return {
        ...wrapped,
        wants: (id: number) => wrapped.wants(id),
        handOff: (tasks: DeliveryTask[]) => {
          handedOff.push(...tasks);
          wrapped.handOff(tasks);
        },
      };
    },
  });
  return { ...herald, handedOff, mostSending: () => most };
}

interface DeliveryRow {
  readonly id: number;
  readonly subscriptionId: number;
  readonly status: string;
  readonly leaseOwner: string | null;
  readonly leaseUntil: number | null;
}

/** A receiver that keeps event requests open until the test lets them go; handshakes are answered at once. */
function holding() {
  const open: ServerResponse[] = [];
  let most = 0;
  const behaviour: ReceiverBehaviour = (request, response) => {
    if (request.json.type === 'platform.events.validatesubscription') return { status: 200 };
    open.push(response);
    most = Math.max(most, open.length);
    return 'handled';
  };
  return {
    behaviour,
    open: () => open.length,
    most: () => most,
    release() {
      for (const response of open.splice(0)) response.writeHead(200).end();
    },
  };
}

/** How many times the receiver got each event id. */
function countsOf(receiver: Receiver): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of receiver.events()) {
    const id = request.json.id as string;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

const eachOnce = (ids: readonly string[]) => new Map(ids.map((id) => [id, 1]));
const idsFor = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describeEachEngine('Deliveries claimed at publish on $name', (engine) => {
  let db: TestDatabase;
  const heralds: HeraldUnderTest[] = [];
  const receivers: Receiver[] = [];
  const open = async (options: Parameters<TestDatabase['open']>[0] = {}) => db.open(options);
  const claiming = async (store: Store, options: ClaimingOptions = {}) => {
    const herald = await assembleClaiming(store, options);
    heralds.push(herald);
    return herald;
  };
  const receiver = async (behaviour?: ReceiverBehaviour) => {
    const started = await startReceiver(behaviour);
    receivers.push(started);
    return started;
  };
  const rows = async (subscriptionId?: number) =>
    (
      await rawSql<DeliveryRow>(
        engine,
        db.database,
        `SELECT id, subscription_id AS "subscriptionId", status, lease_owner AS "leaseOwner", lease_until AS "leaseUntil"
         FROM deliveries ORDER BY id`,
      )
    )
      .map((row) => ({ ...row, subscriptionId: Number(row.subscriptionId) }))
      .filter((row) => subscriptionId === undefined || row.subscriptionId === subscriptionId);
  const settledAndUnleased = async (count: number) => {
    const all = await rows();
    expect(all).toHaveLength(count);
    expect(all.filter((row) => row.status !== 'delivered' || row.leaseOwner !== null || row.leaseUntil !== null)).toEqual([]);
  };

  beforeEach(async () => {
    db = await engine.create();
  });
  afterEach(async () => {
    for (const herald of heralds.splice(0)) await herald.close();
    for (const r of receivers.splice(0)) await r.close();
    await db.destroy();
  });

  it('a started dispatcher delivers a published batch exactly once, body as stored, leaving every row delivered and unleased', async () => {
    const first = await receiver();
    const second = await receiver();
    const herald = await claiming(await open());
    await subscribe(herald, first.url);
    await subscribe(herald, second.url);
    herald.dispatcher.start();
    // More than one subscription's cap (32): some deliveries are claimed, the rest leased by the loop.
    const ids = idsFor('batch', 50);
    await publish(herald, ...ids);
    await eventually(() => first.events().length >= ids.length && second.events().length >= ids.length, 15_000);
    await eventually(async () => (await rows()).every((row) => row.status === 'delivered'));
    expect(countsOf(first)).toEqual(eachOnce(ids));
    expect(countsOf(second)).toEqual(eachOnce(ids));
    expect(herald.handedOff.length).toBeGreaterThan(0); // the claim path was taken
    await settledAndUnleased(2 * ids.length);
    // A claimed delivery carries the payload from the publish, byte for byte what the log stores.
    const stored = new Map((await herald.store.readEvents({ afterSeq: 0, limit: 100 })).map((e) => [JSON.parse(e.payload).id, e.payload]));
    for (const request of first.events()) expect(request.body).toBe(stored.get(request.json.id));
  });

  it('claims no more than the dispatcher has room for; the rest wait unleased, and all arrive once when the endpoint frees up', async () => {
    const held = holding();
    const endpointA = await receiver(held.behaviour);
    const endpointB = await receiver(held.behaviour);
    const herald = await claiming(await open(), { maxInFlight: 3, maxPerSubscription: 2, owner: 'claimer' });
    const a = await subscribe(herald, endpointA.url);
    const b = await subscribe(herald, endpointB.url);
    herald.dispatcher.start();
    const ids = idsFor('cap', 5);
    await publish(herald, ...ids);
    expect(herald.handedOff).toHaveLength(3);
    await eventually(() => held.open() === 3);
    const all = await rows();
    expect(all).toHaveLength(10);
    const leased = all.filter((row) => row.leaseOwner !== null);
    // The claims, in event order: A and B for the first event, then A again; then the process is full. The
    // running loop may lease at most one more round (maxInFlight) ahead, which waits for a slot: never sent early.
    expect(leased.slice(0, 3).map((row) => [row.subscriptionId, row.leaseOwner])).toEqual([
      [a.id, 'claimer'],
      [b.id, 'claimer'],
      [a.id, 'claimer'],
    ]);
    expect(leased.length).toBeLessThanOrEqual(6);
    expect(leased.every((row) => row.leaseOwner === 'claimer')).toBe(true);
    expect(all.filter((row) => row.leaseOwner === null && row.leaseUntil === null)).toHaveLength(10 - leased.length);
    expect(held.open()).toBe(3);

    while ([...countsOf(endpointA).values(), ...countsOf(endpointB).values()].reduce((x, y) => x + y, 0) < 10) {
      held.release();
      await eventually(async () => held.open() > 0 || (await rows()).every((row) => row.status === 'delivered'));
    }
    held.release();
    await eventually(async () => (await rows()).every((row) => row.status === 'delivered'));
    expect(countsOf(endpointA)).toEqual(eachOnce(ids));
    expect(countsOf(endpointB)).toEqual(eachOnce(ids));
    expect(herald.mostSending()).toBeLessThanOrEqual(3);
    await settledAndUnleased(10);
  });

  it.skipIf(engine.name !== postgresEngine.name)(
    'a claim committed after the loop filled the process gives back what no longer fits, and all arrive once',
    async () => {
      let commitGate = Promise.resolve();
      let reachedCommit = false;
      const store = await open({
        beforeCommit: async () => {
          reachedCommit = true;
          await commitGate;
        },
      });
      const held = holding();
      let failing = true;
      const retried = await receiver((request, response) =>
        failing && request.json.type !== 'platform.events.validatesubscription' ? { status: 500 } : held.behaviour(request, response),
      );
      const herald = await claiming(store, { maxInFlight: 2, maxPerSubscription: 2, owner: 'claimer' });
      // Two deliveries come due for their retry while the dispatcher sleeps.
      const retriedId = (await subscribe(herald, retried.url)).id;
      await publish(herald, 'retry-1', 'retry-2');
      await herald.dispatcher.runOnce();
      failing = false;
      const a = await receiver(held.behaviour);
      const b = await receiver(held.behaviour);
      const aId = (await subscribe(herald, a.url)).id;
      await subscribe(herald, b.url);
      herald.dispatcher.start();
      // The loop's first round, with nothing due yet, ends before the retries come due.
      await new Promise((resolve) => setTimeout(resolve, 100));
      herald.clock.advance(1_100);

      // A publish claims both slots and waits to commit; meanwhile the loop fills them with the retries.
      let commit: () => void = () => {};
      commitGate = new Promise((resolve) => (commit = resolve));
      reachedCommit = false;
      const published = publish(herald, 'fresh-1');
      await eventually(() => reachedCommit);
      herald.dispatcher.wake();
      await eventually(() => held.open() === 2);
      commit();
      await published;
      // Claimed for the retried endpoint (now at its cap) and for A: neither fits, both go back to the queue.
      expect(herald.handedOff.map((task) => task.subscriptionId)).toEqual([retriedId, aId]);
      expect(herald.mostSending()).toBe(2);

      // Seven requests in all: two failed attempts, their retries, and the new event to each endpoint.
      const arrived = () => [retried, a, b].reduce((n, r) => n + r.events().length, 0);
      while (arrived() < 7) {
        held.release();
        await eventually(() => held.open() > 0 || arrived() >= 7);
      }
      held.release();
      await eventually(async () => (await rows()).every((row) => row.status === 'delivered'));
      expect(herald.mostSending()).toBeLessThanOrEqual(2);
      // The retried endpoint got each event twice (the failed attempt and the retry), the others once.
      expect(countsOf(retried)).toEqual(new Map([['retry-1', 2], ['retry-2', 2], ['fresh-1', 1]]));
      expect(countsOf(a)).toEqual(eachOnce(['fresh-1']));
      expect(countsOf(b)).toEqual(eachOnce(['fresh-1']));
      await settledAndUnleased(5);
    },
  );

  it('never claims for a pull subscription or a push subscription still pending validation', async () => {
    const active = await receiver();
    const refusing = await receiver(() => ({ status: 500 }));
    const herald = await claiming(await open());
    const pushed = await subscribe(herald, active.url);
    const pending = await subscribe(herald, refusing.url);
    expect(pending.status).toBe('pending');
    const pull = pullClient(herald.app, { authorization: `Bearer ${await testToken()}` });
    const pulled = await pull.subscribe({ resourceFilter: resource });
    herald.dispatcher.start();
    const ids = idsFor('mixed', 5);
    await publish(herald, ...ids);
    await eventually(async () => (await rows(pushed.id)).every((row) => row.status === 'delivered'));
    expect(countsOf(active)).toEqual(eachOnce(ids));
    expect(refusing.events()).toEqual([]);
    expect(herald.handedOff.every((task) => task.subscriptionId === pushed.id)).toBe(true);
    expect(await rows(pending.id)).toEqual([]);
    const queued = await rows(pulled);
    expect(queued.map((row) => [row.status, row.leaseOwner, row.leaseUntil])).toEqual(ids.map(() => ['pending', null, null]));
    expect((await pull.page(pulled)).events.map((e) => e.id)).toEqual(ids);
  });

  it('writes leased only rows the database agrees are active push deliveries, whatever a claim wants', async () => {
    const active = await receiver();
    const refusing = await receiver(() => ({ status: 500 }));
    const herald = await claiming(await open());
    const pushed = await subscribe(herald, active.url);
    const pending = await subscribe(herald, refusing.url);
    const pulled = await pullClient(herald.app, { authorization: `Bearer ${await testToken()}` }).subscribe({ resourceFilter: resource });
    // A claimer with a stale view: it wants every delivery, to any subscription.
    const handed: DeliveryTask[][] = [];
    const greedy: DeliveryClaim = { owner: 'greedy', leaseUntil: herald.clock.now() + 60_000, wants: () => true, handOff: (t) => handed.push(t), ended: () => {} };
    await herald.store.appendEvents([validEvent({ id: 'stale-1', resource })], () => [pushed.id, pending.id, pulled], greedy);
    expect(handed).toHaveLength(1);
    expect(handed[0]!.map((task) => task.subscriptionId)).toEqual([pushed.id]);
    expect((await rows(pushed.id)).map((row) => row.leaseOwner)).toEqual(['greedy']);
    expect((await rows(pulled)).map((row) => row.leaseOwner)).toEqual([null]);
    expect((await rows(pending.id)).filter((row) => row.leaseOwner !== null)).toEqual([]);
  });

  it('hands nothing off and leaves nothing leased when the claiming transaction fails or stores nothing new', async () => {
    const herald = await claiming(await open());
    const pushed = await subscribe(herald, (await receiver()).url);
    const handed: DeliveryTask[][] = [];
    const wanted: number[] = [];
    const recording: DeliveryClaim = {
      owner: 'doomed',
      leaseUntil: herald.clock.now() + 60_000,
      wants: (id) => (wanted.push(id), true),
      handOff: (tasks) => handed.push(tasks),
      ended: () => {},
    };
    // The first event's deliveries are claimed, then the transaction fails on the second.
    let calls = 0;
    const failing = () => {
      if (++calls > 1) throw new Error('matching failed mid-transaction');
      return [pushed.id];
    };
    await expect(
      herald.store.appendEvents([validEvent({ id: 'fail-1', resource }), validEvent({ id: 'fail-2', resource })], failing, recording),
    ).rejects.toThrow('matching failed');
    expect(handed).toEqual([]);
    expect(await rows()).toEqual([]);
    expect(await herald.store.headPosition()).toBe(0);

    // A batch of events already stored: no new deliveries, nothing handed off. (PostgreSQL plans the claims
    // before the database says which events are new, so it may have asked; SQLite asks only for new ones.)
    const event = validEvent({ id: 'dup-1', resource });
    await herald.store.appendEvents([event], () => [pushed.id]);
    wanted.length = 0;
    expect(await herald.store.appendEvents([event, event], () => [pushed.id], recording)).toEqual([false, false]);
    expect(wanted.length).toBeLessThanOrEqual(1);
    expect(handed).toEqual([]);
    expect((await rows()).map((row) => row.leaseOwner)).toEqual([null]);
  });

  it.skipIf(engine.name !== postgresEngine.name)(
    'a commit that fails after the leased rows were written hands nothing off and rolls the leases back',
    async () => {
      let refusals = 1;
      const store = await open({
        beforeCommit: async () => {
          if (refusals-- > 0) throw new Error('commit refused');
        },
      });
      const active = await receiver();
      const herald = await claiming(store);
      const pushed = await subscribe(herald, active.url);
      const handed: DeliveryTask[][] = [];
      const claim: DeliveryClaim = { owner: 'doomed', leaseUntil: herald.clock.now() + 60_000, wants: () => true, handOff: (t) => handed.push(t), ended: () => {} };
      await expect(store.appendEvents([validEvent({ id: 'late-1', resource })], () => [pushed.id], claim)).rejects.toThrow('commit refused');
      expect(handed).toEqual([]);
      expect(await rows()).toEqual([]);

      // Through HTTP: the shared commit fails once, then the request is retried alone with a fresh claim.
      herald.dispatcher.start();
      refusals = 1;
      const ids = idsFor('retried', 3);
      await publish(herald, ...ids);
      await eventually(() => active.events().length >= ids.length);
      await eventually(async () => (await rows()).every((row) => row.status === 'delivered'));
      expect(herald.handedOff.length).toBe(ids.length);
      expect(countsOf(active)).toEqual(eachOnce(ids));
      await settledAndUnleased(ids.length);
    },
  );

  it('loses nothing when the claiming process dies before sending: another dispatcher delivers once the lease expires', async () => {
    const active = await receiver();
    // The process commits its claim and dies before its dispatcher gets the deliveries.
    const doomed = await claiming(await open(), { owner: 'doomed', timeoutMs: 2_000, wrapClaim: (claim) => ({ ...claim, handOff: () => {} }) });
    const pushed = await subscribe(doomed, active.url);
    doomed.dispatcher.start();
    const ids = idsFor('orphan', 4);
    await publish(doomed, ...ids);
    expect((await rows(pushed.id)).map((row) => row.leaseOwner)).toEqual(ids.map(() => 'doomed'));
    await doomed.close();
    await doomed.store.close();

    const survivor = await assembleHerald(await open(), { timeoutMs: 2_000 });
    heralds.push(survivor);
    expect(await survivor.dispatcher.runOnce()).toBe(0); // still leased: not sent while the owner might be alive
    expect(active.events()).toEqual([]);
    survivor.clock.advance(2_000 + 31_000);
    expect(await survivor.dispatcher.runOnce()).toBe(ids.length);
    expect(countsOf(active)).toEqual(eachOnce(ids));
    await settledAndUnleased(ids.length);
  });

  it('a dispatcher that is not started (or has stopped) claims nothing: the loop or runOnce leases every row', async () => {
    const active = await receiver();
    const herald = await claiming(await open());
    const pushed = await subscribe(herald, active.url);
    expect(herald.dispatcher.claim()).toBeUndefined();
    await publish(herald, 'idle-1', 'idle-2');
    expect((await rows(pushed.id)).map((row) => row.leaseOwner)).toEqual([null, null]);
    expect(herald.handedOff).toEqual([]);
    expect(await herald.dispatcher.runOnce()).toBe(2);

    herald.dispatcher.start();
    await herald.dispatcher.stop();
    expect(herald.dispatcher.claim()).toBeUndefined();
    await publish(herald, 'idle-3');
    expect((await rows(pushed.id)).map((row) => row.leaseOwner)).toEqual([null, null, null]);
    expect(await herald.dispatcher.runOnce()).toBe(1);
    expect(countsOf(active)).toEqual(eachOnce(['idle-1', 'idle-2', 'idle-3']));
    await settledAndUnleased(3);
  });

  // Leasing ahead: the running loop leases a second round, which waits for slots (no claims here: every
  // delivery goes through the loop).
  const noClaims: ClaimWrapper = (claim) => ({ ...claim, wants: () => false });

  it('leases one round ahead, starts it as slots free, and gives back on stop what it never sent', async () => {
    const held = holding();
    const endpoint = await receiver(held.behaviour);
    const herald = await claiming(await open(), { maxInFlight: 2, maxPerSubscription: 2, owner: 'ahead', wrapClaim: noClaims });
    await subscribe(herald, endpoint.url);
    const ids = idsFor('ahead', 6);
    await publish(herald, ...ids);
    herald.dispatcher.start();
    await eventually(() => held.open() === 2);
    // Two in flight, two more leased ahead; nothing else leased.
    await eventually(async () => (await rows()).filter((row) => row.leaseOwner === 'ahead').length === 4);
    held.release();
    // The two leased ahead start as soon as the first two are answered, and the last two are leased ahead.
    await eventually(() => endpoint.events().length === 4 && held.open() === 2);
    await eventually(async () => (await rows()).filter((row) => row.status === 'delivered').length === 2);
    await eventually(async () => (await rows()).filter((row) => row.leaseOwner === 'ahead').length === 4);
    const stopping = herald.dispatcher.stop();
    held.release();
    await stopping;
    const all = await rows();
    expect(all.filter((row) => row.status === 'delivered')).toHaveLength(4);
    // The two leased ahead were never sent, and are free for any process now, not when their lease lapses.
    expect(all.filter((row) => row.status === 'pending' && row.leaseOwner === null && row.leaseUntil === null)).toHaveLength(2);
    expect(endpoint.events()).toHaveLength(4);
    expect(herald.mostSending()).toBeLessThanOrEqual(2);
  });

  it('does not send a delivery leased ahead whose lease no longer leaves time for an attempt; it goes out once later', async () => {
    const held = holding();
    const endpoint = await receiver(held.behaviour);
    const herald = await claiming(await open(), {
      maxInFlight: 1,
      maxPerSubscription: 1,
      timeoutMs: 10_000,
      owner: 'ahead',
      wrapClaim: noClaims,
    });
    await subscribe(herald, endpoint.url);
    const ids = idsFor('stale', 2);
    await publish(herald, ...ids);
    herald.dispatcher.start();
    await eventually(() => held.open() === 1);
    await eventually(async () => (await rows()).filter((row) => row.leaseOwner === 'ahead').length === 2);
    // 31 s later the lease taken with the first (10 s timeout + 30 s margin) has 9 s left: too little.
    herald.clock.advance(31_000);
    held.release();
    await eventually(async () => (await rows()).filter((row) => row.status === 'delivered').length === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(endpoint.events()).toHaveLength(1);
    // Once the lease has lapsed, the loop leases it again and sends it: exactly once in all.
    herald.clock.advance(10_000);
    herald.dispatcher.wake();
    await eventually(() => held.open() === 1);
    held.release();
    await eventually(async () => (await rows()).every((row) => row.status === 'delivered'));
    expect(countsOf(endpoint)).toEqual(eachOnce(ids));
    await settledAndUnleased(2);
  });
});
