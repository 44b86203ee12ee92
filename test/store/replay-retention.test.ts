import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { drainReplays, replayClient, replayResource } from '../http/replay-harness.js';
import { dayMs, hourMs, rawSql, retentionOf } from './retention-harness.js';

describeEachEngine('Replays and retention on $name', (engine) => {
  let herald: TestApp;
  let client: ReturnType<typeof replayClient>;
  beforeEach(async () => {
    herald = await createTestApp(engine);
    client = replayClient(herald, herald.auth);
  });
  afterEach(async () => {
    await herald.close();
  });

  const orphans = () =>
    rawSql(engine, herald.db.database, 'SELECT d.id FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = d.event_seq)');

  it("removes a replay's deliveries with their events, and a replay from before retention finds only what is kept", async () => {
    const retention = retentionOf(herald);
    const created = await client.subscribe({ resourceFilter: replayResource });
    const subscription = (created.json() as { id: number }).id;
    await client.publish('old-1', 'old-2');
    await retention.runOnce();
    // More than a partition's span later (PostgreSQL), so old and young lie in different partitions.
    herald.clock.advance(8 * dayMs);
    await retention.runOnce();
    await client.publish('young-1');

    // Replayed 89 days after the old events were published: new queue rows, in today's partition.
    herald.clock.advance(81 * dayMs);
    await client.start(subscription, { after: '0' });
    await drainReplays(herald);
    const replayed = await rawSql<{ n: number | string }>(
      engine,
      herald.db.database,
      'SELECT count(*) AS n FROM deliveries WHERE replay_id IS NOT NULL',
    );
    expect(Number(replayed[0]?.n)).toBe(3);

    herald.clock.advance(9 * dayMs + hourMs);
    await retention.runOnce();
    expect(await orphans()).toEqual([]);
    const left = await rawSql<{ replayId: number | null }>(
      engine,
      herald.db.database,
      'SELECT replay_id AS "replayId" FROM deliveries ORDER BY id',
    );
    // young-1 as published and as replayed.
    expect(left.map((row) => row.replayId === null)).toEqual([true, false]);

    expect(await client.count(subscription, { from: '2000-01-01T00:00:00Z' })).toBe(1);
    expect(await client.count(subscription, { after: '0' })).toBe(1);
    // An `after` naming a removed event replays what followed it and is still kept.
    expect(await client.count(subscription, { after: 'old-1' })).toBe(1);
  });
});
