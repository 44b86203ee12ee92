import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { subscriptionIdentity } from '../../src/domain/subscription-request.js';
import { formatWebhookSecret } from '../../src/domain/webhook-signature.js';
import type { Store } from '../../src/store/store.js';
import { postgresEngine, type TestDatabase } from '../support/engines.js';
import { validEvent } from '../support/test-app.js';
import { rawSql } from './retention-harness.js';

const resource = 'urn:altinn:resource:ordering.race';
const keys = ['k0', 'k1', 'k2'];

/**
 * PostgreSQL, two stores (two processes' connection pools): one publishes events of a few keys as fast as it
 * can while the other leases and settles them as fast as it can. Publishing decides whether a new delivery's
 * key is busy while a settlement may be moving that key on; neither may miss the other (docs/ordering.md).
 */
describe('Ordered keys under concurrent publishing and settling on PostgreSQL', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    if (postgresEngine.available) db = await postgresEngine.create();
  });
  afterEach(async () => {
    await db?.destroy();
  });

  it.skipIf(!postgresEngine.available)(
    'never has two deliveries of a key leased at once, and leaves no key waiting without a head',
    async () => {
      const publisher = await db.open();
      const dispatcher = await db.open();
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
      const { subscription } = await publisher.subscriptions.create({
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

      // Each key's attempts in flight, across both dispatchers: from the lease until the attempt ends (before its
      // outcome is recorded, which is what lets the key's next delivery go).
      const inFlight = new Map<number, string>();
      const violations: string[] = [];
      let settled = 0;
      const settle = async (store: Store, owner: string) => {
        for (let idle = 0; publishing || idle < 3; ) {
          const at = Date.now();
          const tasks = await store.deliveries.leaseDue(owner, at, at + 60_000, 20);
          idle = tasks.length === 0 ? idle + 1 : 0;
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
      // Meanwhile, in snapshots of its own: never two heads (due or leased) of one key.
      const heads = async () => {
        while (publishing) {
          const doubled = await rawSql<{ key: string }>(
            postgresEngine,
            db.database,
            `SELECT ordering_key::text AS key FROM deliveries WHERE ordering_key IS NOT NULL AND status IN ('pending', 'failed')
               AND next_attempt_at IS NOT NULL GROUP BY ordering_key HAVING count(*) > 1`,
          );
          for (const row of doubled) violations.push(`two heads of key hash ${row.key}`);
        }
      };
      await Promise.all([publish(), settle(dispatcher, 'dispatcher-1'), settle(publisher, 'dispatcher-2'), heads()]);

      expect(violations).toEqual([]);
      const left = await rawSql<{ status: string; n: string }>(postgresEngine, db.database, 'SELECT status, count(*) AS n FROM deliveries GROUP BY status');
      expect(left.map((row) => [row.status, Number(row.n)])).toEqual([['delivered', published]]);
      expect(settled).toBe(published);
    },
    60_000,
  );
});
