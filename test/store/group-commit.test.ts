import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ValidEvent } from '../../src/domain/cloudevent.js';
import { GroupCommitAppender } from '../../src/store/group-commit.js';
import { CommitTimeout } from '../../src/store/postgres/bounded-commit.js';
import { isStoreUnavailable } from '../../src/store/store-errors.js';
import type { Store, SubscriptionMatcher } from '../../src/store/store.js';
import { engines, type TestDatabase } from '../support/engines.js';
import { validEvent } from '../support/test-app.js';

const event = (id: string) => validEvent({ id });
const events = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => event(`${prefix}${i}`));

interface ObservedCommit {
  /** The ids of the events, in the order given to the store. */
  readonly ids: string[];
  /** The delivery rows the matcher names for them. */
  readonly deliveries: number;
}

/**
 * The real store, with each commit recorded (in the order commits begin) and chosen commits made to fail;
 * `beforeCommit` runs as a commit begins, before the store sees it.
 */
function observed(
  store: Store,
  failCommits: ReadonlySet<number> = new Set(),
  beforeCommit?: (commit: number) => void,
  failure: () => Error = () => new Error('injected commit failure'),
) {
  const commits: ObservedCommit[] = [];
  const wrapper: Store = Object.create(store);
  wrapper.appendEvents = async (events, match, claim) => {
    commits.push({ ids: events.map((e) => e.id), deliveries: events.reduce((n, e) => n + (match?.(e).length ?? 0), 0) });
    beforeCommit?.(commits.length);
    if (failCommits.has(commits.length)) throw failure();
    return store.appendEvents(events, match, claim);
  };
  return { store: wrapper, commits, sizes: () => commits.map((c) => c.ids.length) };
}

/** `count` pull subscriptions, and a matcher that delivers every event to each of them. */
async function pullSubscriptions(store: Store, count: number): Promise<{ ids: number[]; matchAll: SubscriptionMatcher }> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const { subscription } = await store.subscriptions.create({
      endpoint: null,
      sourceFilter: null,
      resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api',
      subjectFilter: null,
      alternativeSubjectFilter: null,
      typeFilter: `type-${i}`,
      identity: `fan-out-${i}`,
      consumer: `/org/c${i % 3}`,
      createdBy: `/org/c${i % 3}`,
      secret: 'whsec_c2VjcmV0',
      status: 'active',
      nextValidationAt: null,
      validatedAt: Date.now(),
      now: Date.now(),
    });
    ids.push(subscription.id);
  }
  return { ids, matchAll: () => ids };
}

/** Each subscription's queue, as the ids of its events in queue order. */
async function queues(store: Store, subscriptionIds: readonly number[]): Promise<string[][]> {
  return Promise.all(
    subscriptionIds.map(async (id) =>
      (await store.pull.read(id, 0, 10_000)).map((row) => (JSON.parse(row.payload) as { id: string }).id),
    ),
  );
}

const idsOf = (list: readonly ValidEvent[]) => list.map((e) => e.id);

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
    const { store: counted, sizes } = observed(store);
    const appender = new GroupCommitAppender(counted);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        appender.append([event(`e${i}`), event(i % 2 === 0 ? `e${i}` : `f${i}`)]),
      ),
    );
    expect(sizes().reduce((a, b) => a + b, 0)).toBe(100);
    expect(sizes().length).toBeLessThan(50);
    for (const [i, stored] of results.entries())
      expect(stored).toEqual(i % 2 === 0 ? [true, false] : [true, true]);
    expect(await store.readEvents({ afterSeq: 0, limit: 1000 })).toHaveLength(75);
  });

  it('fails the requests whose commits fail, shared and alone; the next commit succeeds', async () => {
    const { store: flaky, sizes } = observed(store, new Set([1, 2, 3]));
    const appender = new GroupCommitAppender(flaky);
    const first = Promise.allSettled([
      appender.append([event('lost-1')]),
      appender.append([event('lost-2')]),
    ]);
    await appender.drain();
    const later = await appender.append([event('kept')]);
    expect((await first).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(later).toEqual([true]);
    expect(sizes()).toEqual([2, 1, 1, 1]);
    const stored = await store.readEvents({ afterSeq: 0, limit: 10 });
    expect(stored.map((row) => JSON.parse(row.payload).id)).toEqual(['kept']);
  });

  it('caps a commit at the event bound: a larger request is split, and one queued behind it commits between its pieces', async () => {
    const { store: counted, commits, sizes } = observed(store);
    const appender = new GroupCommitAppender(counted, undefined, undefined, undefined, { events: 10 });
    const big = events('big', 25);
    const [stored] = await Promise.all([appender.append(big), appender.append([event('small')])]);
    expect(sizes()).toEqual([10, 1, 10, 5]);
    expect(commits[1]?.ids).toEqual(['small']);
    expect(stored).toEqual(Array(25).fill(true));
    const log = await store.readEvents({ afterSeq: 0, limit: 100 });
    expect(log.map((row) => JSON.parse(row.payload).id)).toEqual([...idsOf(big.slice(0, 10)), 'small', ...idsOf(big.slice(10))]);
  });

  it('commits a request whose fan-out exceeds the bound in pieces, each event with all its deliveries', async () => {
    const { ids, matchAll } = await pullSubscriptions(store, 4);
    const { store: counted, commits, sizes } = observed(store);
    const appender = new GroupCommitAppender(counted, matchAll, undefined, undefined, { deliveries: 10 });
    const batch = events('fan', 7);
    expect(await appender.append(batch)).toEqual(Array(7).fill(true));
    // Four deliveries an event: two events (8 rows) fit the bound of 10, a third would not.
    expect(sizes()).toEqual([2, 2, 2, 1]);
    expect(commits.map((c) => c.deliveries)).toEqual([8, 8, 8, 4]);
    for (const queue of await queues(store, ids)) expect(queue).toEqual(idsOf(batch));
  });

  it('commits an event whose own fan-out exceeds the bound alone, with every one of its deliveries', async () => {
    const { ids, matchAll } = await pullSubscriptions(store, 6);
    const { store: counted, sizes } = observed(store);
    const appender = new GroupCommitAppender(counted, matchAll, undefined, undefined, { deliveries: 4 });
    const batch = events('wide', 3);
    expect(await appender.append(batch)).toEqual([true, true, true]);
    expect(sizes()).toEqual([1, 1, 1]);
    for (const queue of await queues(store, ids)) expect(queue).toEqual(idsOf(batch));
  });

  it('commits publishes queued behind a request in pieces, or arriving meanwhile, before its last piece, in commits of their own', async () => {
    const { ids, matchAll } = await pullSubscriptions(store, 4);
    let arriving: Promise<boolean[]> | undefined;
    const { store: counted, commits } = observed(store, new Set(), (commit) => {
      if (commit === 1) arriving = appender.append([event('arriving')]);
    });
    const appender = new GroupCommitAppender(counted, matchAll, undefined, undefined, { deliveries: 10 });
    const batch = events('fan', 8);
    await Promise.all([appender.append(batch), appender.append([event('queued')])]);
    expect(await arriving).toEqual([true]);
    // The pieces take turns with the others: fan0-1, then what waited, then fan2-3, and so on.
    expect(commits.map((c) => c.ids)).toEqual([
      ['fan0', 'fan1'],
      ['queued', 'arriving'],
      ['fan2', 'fan3'],
      ['fan4', 'fan5'],
      ['fan6', 'fan7'],
    ]);
    for (const queue of await queues(store, ids)) expect([...queue].sort()).toEqual([...idsOf(batch), 'arriving', 'queued'].sort());
  });

  it('fails only the request whose event the matcher cannot match, and goes on committing', async () => {
    const { ids, matchAll } = await pullSubscriptions(store, 2);
    const appender = new GroupCommitAppender(store, (e) => {
      if (e.id === 'unmatchable') throw new Error('injected: matching failed');
      return matchAll(e);
    });
    const outcomes = await Promise.allSettled([appender.append([event('before')]), appender.append([event('unmatchable')])]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect(await appender.append([event('after')])).toEqual([true]);
    for (const queue of await queues(store, ids)) expect(queue).toEqual(['before', 'after']);
  });

  it('fails a request when a later piece fails; a retry stores the rest, and every event has each delivery once', async () => {
    const { ids, matchAll } = await pullSubscriptions(store, 4);
    // The second piece fails in the shared commit and again alone.
    const { store: flaky, sizes } = observed(store, new Set([2, 3]));
    const appender = new GroupCommitAppender(flaky, matchAll, undefined, undefined, { deliveries: 10 });
    const batch = events('fan', 7);
    await expect(appender.append(batch)).rejects.toThrow('injected commit failure');
    expect(sizes()).toEqual([2, 2, 2]);
    for (const queue of await queues(store, ids)) expect(queue).toEqual(['fan0', 'fan1']);

    expect(await appender.append(batch)).toEqual([false, false, true, true, true, true, true]);
    for (const queue of await queues(store, ids)) expect(queue).toEqual(idsOf(batch));
    const log = await store.readEvents({ afterSeq: 0, limit: 100 });
    expect(log.map((row) => JSON.parse(row.payload).id)).toEqual(idsOf(batch));
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

  it('answers the requests it no longer retries with the store\'s own error, so they are 503s as the others', async () => {
    const db = await engine.create();
    try {
      const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      const { store: down } = observed(await db.open(), new Set(Array.from({ length: 100 }, (_, i) => i + 1)), undefined, refused);
      const appender = new GroupCommitAppender(down);
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => appender.append([event(`u${i}`)])));
      expect(outcomes.map((o) => o.status === 'rejected' && isStoreUnavailable(o.reason))).toEqual(outcomes.map(() => true));
    } finally {
      await db.destroy();
    }
  });

  it('fails every request of a commit whose acknowledgement timed out at once: alone, each would wait as long again', async () => {
    const db = await engine.create();
    try {
      const { store: waiting, commits } = observed(await db.open(), new Set([1]), undefined, () => new CommitTimeout(1_000));
      const appender = new GroupCommitAppender(waiting);
      const outcomes = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => appender.append([event(`t${i}`)])));
      expect(outcomes.every((o) => o.status === 'rejected' && isStoreUnavailable(o.reason))).toBe(true);
      expect(commits.length).toBe(1);
    } finally {
      await db.destroy();
    }
  });
});
