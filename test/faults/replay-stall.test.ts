import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { assembleHerald, type HeraldUnderTest, validEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { replayClient, replayEvent, replayResource } from '../http/replay-harness.js';

const events = 30_000;

/**
 * A large replay never stalls other work: its pieces share the writer (SQLite) and the append lock
 * (PostgreSQL) with publishing, one short transaction at a time, so a publish made while it runs is answered
 * long before it ends, as is a dry run of another subscription.
 */
describeEachEngine('Publishing while a large replay is enqueued, on $name', (engine) => {
  let db: TestDatabase;
  let herald: HeraldUnderTest;
  let client: ReturnType<typeof replayClient>;
  beforeAll(async () => {
    db = await engine.create();
    const store = await db.open();
    for (let batch = 0; batch < events / 5_000; batch++) {
      await store.appendEvents(Array.from({ length: 5_000 }, () => validEvent({ resource: replayResource, data: { padding: 'x'.repeat(200) } })));
    }
    herald = await assembleHerald(store, { replayer: { piece: { queuedAhead: events + 1_000 } } });
    client = replayClient(herald, { authorization: `Bearer ${await testToken()}` });
  }, 120_000);
  afterAll(async () => {
    await herald?.close();
    await db?.destroy();
  });

  it('answers a publish and a dry run while the replay is under way, each in a fraction of its time', async () => {
    const created = await client.subscribe({ resourceFilter: replayResource });
    const id = (created.json() as { id: number }).id;
    const replay = await client.start(id, { after: '0' });
    expect(replay.events).toBe(events);
    const started = performance.now();
    herald.replayer.start();
    const progress = async () => ((await client.get(id, replay.id)).json() as { enqueued: number; status: string });
    while ((await progress()).enqueued === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    const publishing = performance.now();
    await client.publish(replayEvent('while-replaying'));
    const published = performance.now() - publishing;
    const counting = performance.now();
    expect(await client.count(id, { after: '0' })).toBe(events + 1);
    const counted = performance.now() - counting;
    const during = await progress();

    while ((await progress()).status !== 'completed') await new Promise((resolve) => setTimeout(resolve, 20));
    const whole = performance.now() - started;
    await herald.replayer.stop();
    // Answered while the replay was still going, and far quicker than it.
    expect(during.status).toBe('running');
    expect(published).toBeLessThan(whole / 4);
    expect(counted).toBeLessThan(whole / 2);
    expect((await progress()).enqueued).toBe(events);
  });
});
