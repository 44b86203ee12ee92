import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { assembleHerald, type HeraldUnderTest } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { drainReplays, replayClient, replayResource } from '../http/replay-harness.js';
import { rawSql } from '../store/retention-harness.js';

describeEachEngine('The replay loop on $name', (engine) => {
  let db: TestDatabase;
  let herald: HeraldUnderTest;
  let client: ReturnType<typeof replayClient>;
  let auth: { authorization: string };
  const piece = { events: 3, examine: 1_000, queuedAhead: 1_000, replays: 4 };

  beforeEach(async () => {
    db = await engine.create();
    auth = { authorization: `Bearer ${await testToken()}` };
    herald = await assembleHerald(await db.open(), { replayer: { piece } });
    client = replayClient(herald, auth);
  });
  afterEach(async () => {
    await herald?.close();
    await db?.destroy();
  });

  const ids = (n: number, prefix = 'e') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

  /** A pull subscription with `n` events published and read (acknowledged): its queue is empty. */
  async function pullSubscriptionWith(n: number, filters: Record<string, string> = {}): Promise<number> {
    const created = await client.subscribe({ resourceFilter: replayResource, ...filters });
    expect(created.statusCode, created.body).toBe(201);
    const id = (created.json() as { id: number }).id;
    await client.publish(...ids(n));
    await acknowledgeAll(id);
    return id;
  }

  /** Reads the queue page by page, acknowledging each. @returns the event ids read */
  async function acknowledgeAll(id: number, through: HeraldUnderTest = herald): Promise<string[]> {
    const read: string[] = [];
    let checkPoint: string | undefined;
    for (;;) {
      const response = await through.app.inject({
        url: `/events/api/v1/subscriptions/${id}/events?limit=1000${checkPoint ? `&checkPoint=${encodeURIComponent(checkPoint)}` : ''}`,
        headers: auth,
      });
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json() as { checkPoint: string; events: { id: string }[] };
      checkPoint = page.checkPoint;
      if (page.events.length === 0) return read;
      read.push(...page.events.map((e) => e.id));
    }
  }

  /** Each event's deliveries written by the replay: the event ids, one entry per delivery. */
  async function replayed(replayId: number): Promise<string[]> {
    const rows = await rawSql<{ id: string }>(
      engine,
      db.database,
      'SELECT e.id FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.replay_id = $1 ORDER BY d.id',
      [replayId],
    );
    return rows.map((row) => row.id);
  }

  it('enqueues a replay in pieces of bounded size, in log order, and completes', async () => {
    const subscription = await pullSubscriptionWith(10);
    const replay = await client.start(subscription, { after: '0' });
    expect(replay).toMatchObject({ events: 10, enqueued: 0, status: 'running' });
    const progress: number[] = [];
    while ((await herald.replayer.runOnce()) > 0) {
      progress.push(((await client.get(subscription, replay.id)).json() as { enqueued: number }).enqueued);
    }
    expect(progress).toEqual([3, 6, 9, 10]);
    expect((await client.get(subscription, replay.id)).json()).toMatchObject({ status: 'completed', position: replay.range.through });
    expect(await replayed(replay.id)).toEqual(ids(10));
    expect(await acknowledgeAll(subscription)).toEqual(ids(10));
  });

  it('keeps a replay at most queuedAhead events ahead of the reader, and goes on as the reader catches up', async () => {
    await herald.close();
    herald = await assembleHerald(await db.open(), { replayer: { piece: { ...piece, queuedAhead: 4 } } });
    client = replayClient(herald, auth);
    const subscription = await pullSubscriptionWith(10);
    const replay = await client.start(subscription, { after: '0' });
    await drainReplays(herald);
    expect((await client.get(subscription, replay.id)).json()).toMatchObject({ enqueued: 4, status: 'running' });
    expect(await acknowledgeAll(subscription)).toEqual(ids(4));
    await drainReplays(herald);
    expect(await acknowledgeAll(subscription)).toEqual(ids(8).slice(4));
    await drainReplays(herald);
    expect(await acknowledgeAll(subscription)).toEqual(ids(10).slice(8));
    expect((await client.get(subscription, replay.id)).json()).toMatchObject({ enqueued: 10, status: 'completed' });
  });

  it('stops enqueueing when cancelled: what was enqueued stays, nothing more follows', async () => {
    const subscription = await pullSubscriptionWith(10);
    const replay = await client.start(subscription, { after: '0' });
    expect(await herald.replayer.runOnce()).toBe(1);
    const cancelled = await client.cancel(subscription, replay.id);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', enqueued: 3, finished: expect.any(String) });
    expect(await drainReplays(herald)).toBe(0);
    expect(await replayed(replay.id)).toEqual(ids(3));
    // Cancelling again changes nothing; the replay stays listed as it ended.
    expect((await client.cancel(subscription, replay.id)).json()).toMatchObject({ status: 'cancelled', enqueued: 3 });
    expect(await client.list(subscription)).toMatchObject([{ id: replay.id, status: 'cancelled' }]);
    // A cancelled replay no longer counts against the limits.
    await client.start(subscription, { after: '0' });
    await client.start(subscription, { after: '0' });
  });

  it('resumes after a restart from where it stood, enqueueing every event once', async () => {
    const subscription = await pullSubscriptionWith(10);
    const replay = await client.start(subscription, { after: '0' });
    expect(await herald.replayer.runOnce()).toBe(1);
    await herald.close();

    herald = await assembleHerald(await db.open(), { replayer: { piece } });
    client = replayClient(herald, auth);
    await drainReplays(herald);
    expect(await replayed(replay.id)).toEqual(ids(10));
    expect((await client.get(subscription, replay.id)).json()).toMatchObject({ status: 'completed', enqueued: 10 });
  });

  it('takes over a replay whose process died once its lease lapses, and the dead lease can write nothing', async () => {
    const subscription = await pullSubscriptionWith(10);
    const replay = await client.start(subscription, { after: '0' });
    const now = herald.clock.now();
    // A process that leased the replay, then stopped answering.
    const [held] = await herald.store.replays.lease('dead-process', now, now + 30_000, 10);
    expect(held?.id).toBe(replay.id);
    expect(await herald.replayer.runOnce()).toBe(0);

    herald.clock.advance(30_001);
    expect(await herald.replayer.runOnce()).toBe(1);
    // The dead process wakes and writes the piece it had read: refused, as it no longer stands where it read.
    expect(await herald.store.replays.writePiece(held!, 'dead-process', [1, 2, 3], held!.throughSeq, herald.clock.now())).toBeUndefined();
    await drainReplays(herald);
    expect(await replayed(replay.id)).toEqual(ids(10));
  });

  it.skipIf(engine.name === 'sqlite')('never enqueues an event twice with two processes advancing replays at once', async () => {
    const other = await assembleHerald(await db.open(), { replayer: { piece: { ...piece, replays: 1 } } });
    try {
      const subscriptions = [
        await pullSubscriptionWith(0),
        await pullSubscriptionWith(0, { sourceFilter: 'https://api.domstol.no/dodsbo-api' }),
      ];
      const batch = ids(300);
      for (let i = 0; i < batch.length; i += 100) await client.publish(...batch.slice(i, i + 100));
      for (const subscription of subscriptions) await acknowledgeAll(subscription);
      const replays = [
        await client.start(subscriptions[0]!, { after: '0' }),
        await client.start(subscriptions[0]!, { after: 'e100' }),
        await client.start(subscriptions[1]!, { after: '0' }),
      ];
      for (;;) {
        const moved = await Promise.all([herald.replayer.runOnce(), other.replayer.runOnce(), other.replayer.runOnce()]);
        if (moved.every((n) => n === 0)) break;
      }
      expect(await replayed(replays[0]!.id)).toEqual(batch);
      expect(await replayed(replays[1]!.id)).toEqual(batch.slice(100));
      expect(await replayed(replays[2]!.id)).toEqual(batch);
      // A pull reader on either process gets them in log order: delivery ids were drawn in commit order.
      expect(await acknowledgeAll(subscriptions[1]!, other)).toEqual(batch);
    } finally {
      await other.close();
    }
  });
});
