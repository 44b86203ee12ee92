import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { pullClient } from '../http/pull-harness.js';

/** Short, so the tests wait for real (a little longer than this) instead of moving a clock. */
const inactivityMs = 1_000;
const unreadFor = inactivityMs + 500;

describeEachEngine('Pull inactivity judged at read time on $name', (engine) => {
  let t: TestApp;
  let c: ReturnType<typeof pullClient>;
  beforeAll(async () => {
    // The sweep (t.maintenance) is never run here: nothing but the reads themselves may notice inactivity.
    t = await createTestApp(engine, undefined, { inactivityMs });
    c = pullClient(t.app, t.auth);
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a checkpoint older than the inactivity limit on the next read, without waiting for the sweep', async () => {
    const id = await c.subscribe();
    await c.publish('a1', 'a2');
    const first = await c.page(id, { limit: 1 });
    // Read again within the limit: still honoured.
    const second = await c.page(id, { limit: 1, checkPoint: first.checkPoint });
    expect(second.events.map((e) => e.id)).toEqual(['a2']);

    await sleep(unreadFor);
    const stale = await c.read(id, { checkPoint: second.checkPoint });
    expect(stale.statusCode, stale.body).toBe(400);
    expect(stale.json()).toMatchObject({ code: 'events:checkpointOutOfRange' });
    expect(await c.subscription(id)).toMatchObject({ status: 'inactive' });

    // Without a checkpoint the reader starts again from the earliest queued event (a2 was never acknowledged).
    const restarted = await c.page(id);
    expect(restarted.events.map((e) => e.id)).toEqual(['a2']);
    expect(await c.subscription(id)).toMatchObject({ status: 'active' });
    const next = await c.page(id, { checkPoint: restarted.checkPoint });
    expect(next.events).toEqual([]);
    // The old checkpoint stays out of range once the subscription is active again.
    expect((await c.read(id, { checkPoint: second.checkPoint })).statusCode).toBe(400);
  });

  it('gives two concurrent readers of a stale checkpoint the same answer', async () => {
    const id = await c.subscribe({ resourceFilter: 'urn:altinn:resource:herald.pull-test', subjectFilter: '/org/race' });
    const page = await c.page(id);
    await sleep(unreadFor);
    const answers = await Promise.all([1, 2, 3, 4].map(() => c.read(id, { checkPoint: page.checkPoint })));
    expect(answers.map((a) => a.statusCode)).toEqual([400, 400, 400, 400]);
  });

  it('lets a reader without a checkpoint and one with a stale checkpoint race: the stale one never counts', async () => {
    const id = await c.subscribe({ resourceFilter: 'urn:altinn:resource:herald.pull-test', subjectFilter: '/org/race2' });
    const page = await c.page(id);
    await sleep(unreadFor);
    const [fresh, stale] = await Promise.all([c.read(id), c.read(id, { checkPoint: page.checkPoint })]);
    expect(fresh.statusCode, fresh.body).toBe(200);
    expect(stale.statusCode, stale.body).toBe(400);
  });
});
