import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { subscriptionIdentity } from '../../src/domain/subscription-request.js';
import { formatWebhookSecret } from '../../src/domain/webhook-signature.js';
import type { Store } from '../../src/store/store.js';
import { Replayer } from '../../src/delivery/replayer.js';
import { postgresEngine, type TestDatabase } from '../support/engines.js';
import { validEvent } from '../support/test-app.js';
import { rawSql } from './retention-harness.js';

const resource = 'urn:altinn:resource:ordering.race';
const keys = ['k0', 'k1', 'k2'];

/**
 * PostgreSQL, two stores (two processes' connection pools): one publishes events of a few keys as fast as it
 * can while the other leases and settles them as fast as it can. Publishing, or writing a replay's piece, decides
 * whether a new delivery's key is busy while a settlement may be moving that key on; neither may miss the other
 * (docs/ordering.md).
 */
describe('Ordered keys under concurrent publishing and settling on PostgreSQL', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    if (postgresEngine.available) db = await postgresEngine.create();
  });
  afterEach(async () => {
    await db?.destroy();
  });

  /** An ordered subscription (by subject), active, on `store`. */
  async function orderedSubscription(store: Store) {
    const spec = {
      endpoint: 'http://127.0.0.1:9/race',
      sourceFilter: null,
      resourceFilter: resource,
      subjectFilter: null,
      alternativeSubjectFilter: null,
      typeFilter: null,
      ordering: 'subject',
    } as const;
    const now = Date.now();
    const { subscription } = await store.subscriptions.create({
      ...spec,
      identity: subscriptionIdentity('/org/race', spec),
      consumer: '/org/race',
      createdBy: '/org/race',
      secret: formatWebhookSecret(randomBytes(32)),
      status: 'active',
      nextValidationAt: null,
      validatedAt: now,
      now,
    });
    return subscription;
  }

  /**
   * Two dispatchers (one on each store) leasing and settling as fast as they can until `producing()` is false
   * and then found nothing three times, while a third loop looks, in snapshots of its own, for a key with two
   * heads (due or leased). @returns what went wrong, and how many deliveries were recorded delivered
   */
  async function settleWhile(stores: readonly Store[], producing: () => boolean, work: Promise<unknown>) {
    // Each key's attempts in flight, across both dispatchers: from the lease until the attempt ends (before its
    // outcome is recorded, which is what lets the key's next delivery go).
    const inFlight = new Map<number, string>();
    const violations: string[] = [];
    let settled = 0;
    const settle = async (store: Store, owner: string) => {
      for (let idle = 0; idle < 3; ) {
        // Only a lease begun after production ended counts as idle: one begun before it may have missed the
        // last deliveries written (counting those, a loop could stop with a last piece's heads never leased).
        const ended = !producing();
        const at = Date.now();
        const tasks = await store.deliveries.leaseDue(owner, at, at + 60_000, 20);
        idle = tasks.length === 0 && ended ? idle + 1 : 0;
        for (const task of tasks) {
          const key = String((JSON.parse(task.payload) as { subject: string }).subject);
          if ([...inFlight.values()].includes(key)) violations.push(`${key} leased while in flight (delivery ${task.id})`);
          inFlight.set(task.id, key);
        }
        await new Promise((resolve) => setImmediate(resolve));
        for (const task of tasks) inFlight.delete(task.id);
        const outcomes = tasks.map((task) => ({ id: task.id, outcome: { kind: 'delivered', statusCode: 200 } as const }));
        // Read after the await: `settled += await …` would read the total before it, losing the other loop's.
        const recorded = await store.deliveries.settleMany(owner, outcomes, Date.now());
        settled += recorded.size;
        if (tasks.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const heads = async () => {
      while (producing()) {
        const doubled = await rawSql<{ key: string }>(
          postgresEngine,
          db.database,
          `SELECT ordering_key::text AS key FROM deliveries WHERE ordering_key IS NOT NULL AND status IN ('pending', 'failed')
             AND next_attempt_at IS NOT NULL GROUP BY ordering_key HAVING count(*) > 1`,
        );
        for (const row of doubled) violations.push(`two heads of key hash ${row.key}`);
      }
    };
    await Promise.all([work, ...stores.map((store, n) => settle(store, `dispatcher-${n + 1}`)), heads()]);
    return { violations, settled };
  }

  const statusCounts = async () =>
    (await rawSql<{ status: string; n: string }>(postgresEngine, db.database, 'SELECT status, count(*) AS n FROM deliveries GROUP BY status')).map(
      (row) => [row.status, Number(row.n)],
    );

  it.skipIf(!postgresEngine.available)(
    'never has two deliveries of a key leased at once, and leaves no key waiting without a head',
    async () => {
      const publisher = await db.open();
      const dispatcher = await db.open();
      const subscription = await orderedSubscription(publisher);
      const match = () => [subscription.id];

      let publishing = true;
      let published = 0;
      const publish = async () => {
        for (let round = 0; round < 150; round++) {
          const batch = Array.from({ length: 1 + (round % 3) }, () => {
            const key = keys[published++ % keys.length] as string;
            return validEvent({ resource, subject: `/party/${key}` });
          });
          await publisher.appendEvents(batch, match);
        }
        publishing = false;
      };
      const { violations, settled } = await settleWhile([dispatcher, publisher], () => publishing, publish());

      expect(violations).toEqual([]);
      expect(await statusCounts()).toEqual([['delivered', published]]);
      expect(settled).toBe(published);
    },
    60_000,
  );

  it.skipIf(!postgresEngine.available)(
    'never has two deliveries of a key leased at once, and leaves no key waiting without a head, while replay pieces and publishes add to the keys',
    async () => {
      const replaying = await db.open();
      const dispatcher = await db.open();
      const subscription = await orderedSubscription(replaying);
      const match = () => [subscription.id];
      const history = Array.from({ length: 600 }, (_, n) => validEvent({ resource, subject: `/party/${keys[n % keys.length]}` }));
      for (let n = 0; n < history.length; n += 100) await replaying.appendEvents(history.slice(n, n + 100), match);
      const now = Date.now();
      const replay = await replaying.replays.create(
        {
          subscriptionId: subscription.id,
          consumer: '/org/race',
          status: 'running',
          fromTime: null,
          afterCursor: '0',
          untilTime: null,
          afterSeq: 0,
          throughSeq: await replaying.headPosition(),
          events: history.length,
          now,
        },
        { perSubscription: 10, perConsumer: 10 },
      );
      expect(replay).toBeDefined();

      // Pieces of two events, written as fast as they can be, while keys settle and more events are published: a
      // piece decides whether its keys are busy while a settlement may be moving them on (without the ordering
      // lock, this strands hundreds of deliveries with no head).
      const replayer = new Replayer({ store: replaying, piece: { events: 2, queuedAhead: 100_000, replays: 1 } });
      let producing = 2;
      let published = history.length;
      const replayAll = async () => {
        while ((await replayer.runOnce()) > 0);
        producing--;
      };
      const publish = async () => {
        for (let round = 0; round < 60; round++) {
          const key = keys[round % keys.length] as string;
          await dispatcher.appendEvents([validEvent({ resource, subject: `/party/${key}` })], match);
          published++;
        }
        producing--;
      };
      const { violations, settled } = await settleWhile([dispatcher, replaying], () => producing > 0, Promise.all([replayAll(), publish()]));

      expect(violations).toEqual([]);
      expect(await replaying.replays.get(subscription.id, replay!.id)).toMatchObject({ status: 'completed', enqueued: history.length });
      expect(await statusCounts()).toEqual([['delivered', published + history.length]]);
      expect(settled).toBe(published + history.length);
    },
    60_000,
  );
});
