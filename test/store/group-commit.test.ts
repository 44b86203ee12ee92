import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommitAppender, maxEventsPerCommit } from '../../src/store/group-commit.js';
import type { Store } from '../../src/store/store.js';
import { engines, type TestDatabase } from '../support/engines.js';
import { validEvent } from '../support/test-app.js';

const event = (id: string) => validEvent({ id });

/** The real store, with each commit's size recorded and chosen commits made to fail. */
function observed(store: Store, failCommits: ReadonlySet<number> = new Set()) {
  const commits: number[] = [];
  const wrapper: Store = Object.create(store);
  wrapper.appendEvents = async (events) => {
    commits.push(events.length);
    if (failCommits.has(commits.length)) throw new Error('injected commit failure');
    return store.appendEvents(events);
  };
  return { store: wrapper, commits };
}

describe.each(engines)('Group commit on $name', (engine) => {
  let db: TestDatabase;
  let store: Store;
  beforeEach(async (context) => {
    if (!engine.available) return context.skip();
    db = await engine.create();
    store = await db.open();
  });
  afterEach(async () => {
    await db?.destroy();
  });

  it('writes concurrent publishes together and answers each with its own outcome', async () => {
    const { store: counted, commits } = observed(store);
    const appender = new GroupCommitAppender(counted);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        appender.append([event(`e${i}`), event(i % 2 === 0 ? `e${i}` : `f${i}`)]),
      ),
    );
    expect(commits.reduce((a, b) => a + b, 0)).toBe(100);
    expect(commits.length).toBeLessThan(50);
    for (const [i, stored] of results.entries())
      expect(stored).toEqual(i % 2 === 0 ? [true, false] : [true, true]);
    expect(await store.readEvents({ afterSeq: 0, limit: 1000 })).toHaveLength(75);
  });

  it('fails the requests whose commits fail, shared and alone; the next commit succeeds', async () => {
    const { store: flaky, commits } = observed(store, new Set([1, 2, 3]));
    const appender = new GroupCommitAppender(flaky);
    const first = Promise.allSettled([
      appender.append([event('lost-1')]),
      appender.append([event('lost-2')]),
    ]);
    await appender.drain();
    const later = await appender.append([event('kept')]);
    expect((await first).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(later).toEqual([true]);
    expect(commits).toEqual([2, 1, 1, 1]);
    const stored = await store.readEvents({ afterSeq: 0, limit: 10 });
    expect(stored.map((row) => JSON.parse(row.payload).id)).toEqual(['kept']);
  });

  it('caps a commit at the batch limit but never splits one request', async () => {
    const { store: counted, commits } = observed(store);
    const appender = new GroupCommitAppender(counted);
    const big = Array.from({ length: maxEventsPerCommit + 5 }, (_, i) => event(`big${i}`));
    await Promise.all([appender.append(big), appender.append([event('small')])]);
    expect(commits).toEqual([maxEventsPerCommit + 5, 1]);
  });
});

describe.each(engines)('Group commit isolation on $name', (engine) => {
  it.skipIf(!engine.available)(
    'a request the store refuses fails alone; the requests that shared its commit are stored',
    async () => {
      const db = await engine.create();
      try {
        const real = await db.open();
        const picky: Store = Object.create(real);
        picky.appendEvents = async (events) => {
          if (events.some((e) => e.id === 'poison'))
            throw new Error('injected: the database refuses this event');
          return real.appendEvents(events);
        };
        const appender = new GroupCommitAppender(picky);
        const outcomes = await Promise.allSettled([
          appender.append([event('innocent-1')]),
          appender.append([event('poison')]),
          appender.append([event('innocent-2'), event('innocent-3')]),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        const stored = await real.readEvents({ afterSeq: 0, limit: 10 });
        expect(stored.map((row) => JSON.parse(row.payload).id)).toEqual([
          'innocent-1',
          'innocent-2',
          'innocent-3',
        ]);
      } finally {
        await db.destroy();
      }
    },
  );

  it.skipIf(!engine.available)(
    'stops retrying one by one when the store is down, failing every request',
    async () => {
      const db = await engine.create();
      try {
        const real = await db.open();
        const { store: down, commits } = observed(
          real,
          new Set(Array.from({ length: 100 }, (_, i) => i + 1)),
        );
        const appender = new GroupCommitAppender(down);
        const outcomes = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => appender.append([event(`d${i}`)])),
        );
        expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
        expect(commits.length).toBe(4); // the shared commit, then three alone
      } finally {
        await db.destroy();
      }
    },
  );
});
