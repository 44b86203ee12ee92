import { afterEach, beforeEach, expect, it } from 'vitest';
import { Retention } from '../../src/delivery/retention.js';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { idsOf, pullClient, pullEvent } from '../http/pull-harness.js';
import { countRows, dayMs, hourMs, rawSql, retentionOf } from './retention-harness.js';

describeEachEngine('Retention on $name', (engine) => {
  let herald: TestApp;
  let client: ReturnType<typeof pullClient>;
  beforeEach(async () => {
    herald = await createTestApp(engine);
    client = pullClient(herald.app, herald.auth);
  });
  afterEach(async () => {
    await herald.close();
  });

  const storedIds = async () =>
    (await rawSql<{ id: string }>(engine, herald.db.database, 'SELECT id FROM events ORDER BY seq')).map((row) => row.id);

  it('removes events older than HERALD_RETENTION with all their deliveries, and keeps younger events and their unacknowledged pull rows', async () => {
    const retention = retentionOf(herald);
    const subscription = await client.subscribe();
    await client.publish('old-1', 'old-2', 'old-3');
    await retention.runOnce();
    // More than a partition's span later (PostgreSQL), so old and young lie in different partitions.
    herald.clock.advance(8 * dayMs);
    await retention.runOnce();
    await client.publish('young-1', 'young-2');

    herald.clock.advance(81 * dayMs);
    const early = await retention.runOnce();
    expect(early.events + early.droppedPartitions.length).toBe(0);
    expect(await storedIds()).toEqual(['old-1', 'old-2', 'old-3', 'young-1', 'young-2']);

    // Old events are 98 days old: on PostgreSQL their partition was left 90 days ago.
    herald.clock.advance(9 * dayMs + hourMs);
    await retention.runOnce();
    expect(await storedIds()).toEqual(['young-1', 'young-2']);
    // The queue never acknowledged still holds the young events: kept until acknowledged or until retention.
    expect(idsOf(await client.page(subscription))).toEqual(['young-1', 'young-2']);
    const orphans = await rawSql(
      engine,
      herald.db.database,
      'SELECT d.id FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = d.event_seq)',
    );
    expect(orphans).toEqual([]);
    expect(await countRows(engine, herald.db.database, 'deliveries')).toBe(2);
  });

  it('removes delivered and dead deliveries after HERALD_DELIVERY_RETENTION, and leaves pending ones and the events', async () => {
    const retention = retentionOf(herald);
    await client.subscribe();
    await client.publish('a', 'b', 'c', 'd');
    // Settled as the dispatcher records outcomes: two delivered, one dead, one still pending.
    const ids = (await rawSql<{ id: number }>(engine, herald.db.database, 'SELECT id FROM deliveries ORDER BY id')).map((r) => Number(r.id));
    await rawSql(engine, herald.db.database, "UPDATE deliveries SET status = 'delivered', delivered_at = 1 WHERE id = $1 OR id = $2", [ids[0], ids[1]]);
    await rawSql(engine, herald.db.database, "UPDATE deliveries SET status = 'dead' WHERE id = $1", [ids[2]]);
    await retention.runOnce();

    herald.clock.advance(29 * dayMs);
    expect((await retention.runOnce()).finishedDeliveries).toBe(0);
    herald.clock.advance(1 * dayMs + hourMs);
    expect((await retention.runOnce()).finishedDeliveries).toBe(3);

    const left = await rawSql<{ id: number; status: string }>(engine, herald.db.database, 'SELECT id, status FROM deliveries');
    expect(left.map((row) => [Number(row.id), row.status])).toEqual([[ids[3], 'pending']]);
    expect(await storedIds()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('lets publishing go on while a sweep removes thousands of rows', async () => {
    const retention = retentionOf(herald);
    await client.subscribe();
    const old = Array.from({ length: 2_500 }, (_, i) => pullEvent(`old-${i}`));
    for (let i = 0; i < old.length; i += 500) await client.publish(...old.slice(i, i + 500));
    await retention.runOnce();
    herald.clock.advance(8 * dayMs);
    await retention.runOnce();
    herald.clock.advance(90 * dayMs + hourMs);

    const young = Array.from({ length: 40 }, (_, i) => `young-${i}`);
    const [round] = await Promise.all([retention.runOnce(), ...young.map((id) => client.publish(id))]);
    expect(round.events + round.droppedPartitions.length).toBeGreaterThan(0);
    expect((await storedIds()).sort()).toEqual([...young].sort());
  });

  it('forgets the keys of removed events one retention period after they were removed', async () => {
    const retention = retentionOf(herald);
    await client.publish('gone');
    await retention.runOnce();
    herald.clock.advance(8 * dayMs);
    await retention.runOnce();
    herald.clock.advance(90 * dayMs + hourMs);
    await retention.runOnce();
    expect(await herald.store.retention.removedEventPosition('gone')).toEqual(expect.any(Number));

    // Remembered until twice the retention period has passed since it was published.
    herald.clock.advance(80 * dayMs);
    expect((await retention.runOnce()).forgottenKeys).toBe(0);
    herald.clock.advance(3 * dayMs);
    expect((await retention.runOnce()).forgottenKeys).toBe(1);
    expect(await herald.store.retention.removedEventPosition('gone')).toBeUndefined();
  });

  if (engine.name === 'postgres') {
    const partitionsNow = async () =>
      (
        await rawSql<{ name: string }>(
          engine,
          herald.db.database,
          `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'events'::regclass ORDER BY c.relname`,
        )
      ).map((row) => row.name);

    it('keeps partitions made ahead of today, and detaches and drops those wholly older than retention', async () => {
      const retention = retentionOf(herald);
      await client.publish('first');
      await retention.runOnce();
      const today = Math.floor(herald.clock.now() / dayMs);
      const ranges = await rawSql<{ fromDay: number; toDay: number }>(
        engine,
        herald.db.database,
        'SELECT from_day AS "fromDay", to_day AS "toDay" FROM herald_partitions WHERE from_day > 0 ORDER BY from_day',
      );
      expect(ranges.at(-1)?.toDay).toBeGreaterThan(today + 2);
      const before = await partitionsNow();
      expect(before).toContain('events_legacy');
      expect(before).toContain(`events_p${today}`);

      herald.clock.advance(8 * dayMs);
      await retention.runOnce();
      await client.publish('second');
      herald.clock.advance(90 * dayMs + hourMs);
      const round = await retention.runOnce();
      expect(round.droppedPartitions).toEqual(expect.arrayContaining(['events_legacy', `events_p${today}`, `deliveries_p${today}`]));
      const after = await partitionsNow();
      expect(after).not.toContain(`events_p${today}`);
      expect(after).not.toContain('events_legacy');
      // The partition for the clock's day now: 98 days and an hour on, which is a day further after 23:00 UTC.
      expect(after).toContain(`events_p${Math.floor(herald.clock.now() / dayMs)}`);
      const [leftover] = await rawSql(engine, herald.db.database, `SELECT to_regclass('events_p${today}') AS t`);
      expect(leftover).toEqual({ t: null });
      expect(await storedIds()).toEqual(['second']);
    });

    it('makes and drops partitions safely when two processes run retention at once', async () => {
      const second = await herald.db.open();
      const one = retentionOf(herald);
      const other = new Retention({ store: second, eventsMs: 90 * dayMs, deliveriesMs: 30 * dayMs, clock: herald.clock.now });
      await client.publish('x');
      await Promise.all([one.runOnce(), other.runOnce()]);
      herald.clock.advance(8 * dayMs);
      await Promise.all([one.runOnce(), other.runOnce()]);
      await client.publish('y');
      herald.clock.advance(90 * dayMs + hourMs);
      await Promise.all([one.runOnce(), other.runOnce(), one.runOnce()]);
      await Promise.all([one.runOnce(), other.runOnce()]);
      expect(await storedIds()).toEqual(['y']);
      await client.publish('z');
      expect(await storedIds()).toEqual(['y', 'z']);
    });
  }
});
