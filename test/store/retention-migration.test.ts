import { afterEach, beforeEach, expect, it } from 'vitest';
import { Retention } from '../../src/delivery/retention.js';
import { readMigrations } from '../../src/store/migration-files.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { applyMigrations } from '../support/migrate.js';
import { validEvent } from '../support/test-app.js';
import { dayMs, rawSql } from './retention-harness.js';

const resource = 'urn:altinn:resource:herald.migration-test';
const source = 'https://herald.test/migration';

describeEachEngine('Migration 004 (retention) on $name', (engine) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await engine.create();
  });
  afterEach(async () => {
    await db.destroy();
  });

  /** Builds a database as Herald before retention left it: migrations 001–003 only. */
  async function migrateTo3(): Promise<void> {
    await applyMigrations(engine.name, db.database, readMigrations(engine.name).filter((m) => m.version <= 3));
  }

  /** An event and its pull delivery, stored as the old schema stored them, registered `ageDays` ago. */
  async function storeOldStyle(id: string, ageDays: number, subscriptionId: number): Promise<void> {
    const registered = Date.now() - ageDays * dayMs;
    const payload = JSON.stringify({ specversion: '1.0', id, source, type: 't', resource });
    await rawSql(
      engine,
      db.database,
      `INSERT INTO events (id, source, type, resource, registered_at, payload) VALUES ($1, $2, 't', $3, $4, $5)`,
      [id, source, resource, engine.name === 'sqlite' ? registered : new Date(registered).toISOString(), payload],
    );
    const [event] = await rawSql<{ seq: number }>(engine, db.database, 'SELECT seq FROM events WHERE id = $1', [id]);
    await rawSql(
      engine,
      db.database,
      "INSERT INTO deliveries (subscription_id, event_seq, status, created_at) VALUES ($1, $2, 'pending', $3)",
      [subscriptionId, Number(event?.seq), registered],
    );
  }

  it('carries events, deliveries and idempotency over, and ages old data from when it was published', async () => {
    await migrateTo3();
    await rawSql(
      engine,
      db.database,
      `INSERT INTO subscriptions (identity, consumer, created_by, resource_filter, secret, status, created_at, validated_at)
       VALUES ('i', '/org/ttd', '/org/ttd', $1, 'whsec_x', 'active', $2, $3)`,
      [resource, Date.now() - 300 * dayMs, Date.now() - 300 * dayMs],
    );
    const [subscription] = await rawSql<{ id: number }>(engine, db.database, 'SELECT id FROM subscriptions');
    const subscriptionId = Number(subscription?.id);
    await storeOldStyle('ancient-1', 200, subscriptionId);
    await storeOldStyle('ancient-2', 150, subscriptionId);
    await storeOldStyle('recent', 10, subscriptionId);

    const store = await db.open();
    const page = await store.readEvents({ afterSeq: 0, resource, limit: 10 });
    expect(page.map((e) => JSON.parse(e.payload).id)).toEqual(['ancient-1', 'ancient-2', 'recent']);
    expect(await store.findEventPosition('recent', source)).toBe(page[2]?.seq);
    expect((await store.pull.read(subscriptionId, 0, 10)).map((q) => q.seq)).toEqual(page.map((e) => e.seq));

    // Idempotency holds across the migration, and new positions follow the old ones.
    const [again, fresh] = await store.appendEvents([
      validEvent({ id: 'recent', source, resource }),
      validEvent({ id: 'after-upgrade', source, resource }),
    ]);
    expect([again, fresh]).toEqual([false, true]);
    const newest = await store.findEventPosition('after-upgrade', source);
    expect(newest).toBeGreaterThan(page[2]?.seq as number);

    // Marks seeded from registration times: the 150- and 200-day-old events leave at once, with their rows.
    const retention = new Retention({ store, eventsMs: 90 * dayMs, deliveriesMs: 30 * dayMs });
    await retention.runOnce();
    const left = await store.readEvents({ afterSeq: 0, resource, limit: 10 });
    expect(left.map((e) => JSON.parse(e.payload).id)).toEqual(['recent', 'after-upgrade']);
    expect((await store.pull.read(subscriptionId, 0, 10)).map((q) => q.seq)).toEqual([page[2]?.seq]);
    // A removed event's key is remembered until twice the retention period has passed since it was published.
    expect(await store.retention.removedEventPosition('ancient-2')).toBe(page[1]?.seq);
    expect(await store.retention.removedEventPosition('ancient-1')).toBeUndefined();
  });
});
