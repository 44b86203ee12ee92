import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { validEvent } from '../support/test-app.js';
import type { Store, StoreTopic } from '../../src/store/store.js';

/** Resolves at the first announcement of `topic` a watcher hears. */
function heard(store: Store, topic: StoreTopic): { readonly next: Promise<void>; stop(): void } {
  let stop = () => {};
  const next = new Promise<void>((resolve) => {
    stop = store.watch((announced) => {
      if (announced === topic) resolve();
    });
  });
  return { next, stop: () => stop() };
}

describeEachEngine('Commit announcements (what event streams wait for) on $name', (engine) => {
  let db: TestDatabase;
  let store: Store;
  beforeEach(async () => {
    db = await engine.create();
    store = await db.open();
  });
  afterEach(async () => db?.destroy());

  it('announces committed events to watchers, though no subscription matched them', async () => {
    const events = heard(store, 'events');
    await store.appendEvents([validEvent()]);
    await events.next;
    events.stop();
  });

  // Counted on SQLite only: on PostgreSQL a process also hears its own NOTIFY, and its listener announces every
  // topic when it connects, so the count there says nothing about the repeat.
  it.runIf(engine.name === 'sqlite')('announces nothing for a publish that stored nothing new (a repeat)', async () => {
    const event = validEvent();
    await store.appendEvents([event]);
    const announced: StoreTopic[] = [];
    const stop = store.watch((topic) => announced.push(topic));
    await store.appendEvents([event]);
    // A later, new event's announcement comes after any the repeat could have made: none did.
    const next = heard(store, 'events');
    await store.appendEvents([validEvent()]);
    await next.next;
    next.stop();
    stop();
    expect(announced.filter((topic) => topic === 'events')).toHaveLength(1);
  });

  if (engine.name === 'postgres') {
    it("announces another process's commit through NOTIFY", async () => {
      const other = await db.open();
      const events = heard(store, 'events');
      // The listener announces every topic once it is connected: wait for that first, then publish elsewhere.
      await events.next;
      events.stop();
      const fromOther = heard(store, 'events');
      await other.appendEvents([validEvent()]);
      await fromOther.next;
      fromOther.stop();
    });
  }
});
