import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { assembleHerald, defaultLimits, type HeraldUnderTest, sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

const resource = 'urn:altinn:resource:fan.out';
const subscriptions = 20;
/** Five events a commit: 100 delivery rows, at 20 subscriptions an event. */
const commitDeliveryRows = 100;

/** What happened, in order: a commit beginning (with its events' ids), or an answer to a request. */
type Happening = { readonly commit: readonly string[] } | { readonly answered: string };

describeEachEngine('A fan-out is committed in pieces that let other requests through, on $name', (engine) => {
  let db: TestDatabase;
  let store: Store;
  let herald: HeraldUnderTest;
  let happenings: Happening[];
  let failCommits: Set<number>;
  let onCommit: (commit: number) => void;
  let publisher: string;
  let other: string;

  beforeEach(async () => {
    db = await engine.create();
    store = await db.open();
    for (let i = 0; i < subscriptions; i++) {
      const consumer = `/org/reader${i % 3}`;
      await store.subscriptions.create({
        endpoint: null,
        sourceFilter: null,
        resourceFilter: resource,
        subjectFilter: null,
        alternativeSubjectFilter: null,
        typeFilter: null,
        identity: `reader-${i}`,
        consumer,
        createdBy: consumer,
        secret: 'whsec_c2VjcmV0',
        status: 'active',
        nextValidationAt: null,
        validatedAt: Date.now(),
        now: Date.now(),
      });
    }
    happenings = [];
    failCommits = new Set();
    onCommit = () => {};
    let commits = 0;
    const watched: Store = Object.create(store);
    watched.appendEvents = async (events, match, claim) => {
      happenings.push({ commit: events.map((event) => event.id) });
      commits += 1;
      onCommit(commits);
      if (failCommits.has(commits)) throw new Error('injected commit failure');
      return store.appendEvents(events, match, claim);
    };
    herald = await assembleHerald(watched, { limits: { ...defaultLimits, commitDeliveryRows } });
    publisher = await testToken();
    other = await testToken({ claims: { org: 'other' } });
  });
  afterEach(async () => {
    await herald?.close();
    await db?.destroy();
  });

  const publish = (token: string, events: readonly Record<string, unknown>[]) =>
    herald.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify(events),
    });

  /** Each subscription's queue, as the ids of its events. */
  const queues = async () =>
    Promise.all(
      (await store.subscriptions.listAll()).map(async (s) =>
        (await store.pull.read(s.id, 0, 10_000)).map((row) => (JSON.parse(row.payload) as { id: string }).id),
      ),
    );

  it('answers /health and another consumer’s publish before the last piece of a large fan-out begins', async () => {
    const batch = Array.from({ length: 60 }, (_, i) => sampleEvent({ id: `fan-${i}`, resource }));
    onCommit = (commit) => {
      if (commit !== 1) return;
      void herald.app.inject({ method: 'GET', url: '/health' }).then((response) => {
        expect(response.statusCode).toBe(200);
        happenings.push({ answered: 'health' });
      });
      void publish(other, [sampleEvent({ id: 'other', resource: 'urn:altinn:resource:elsewhere' })]).then((response) => {
        expect(response.statusCode, response.body).toBe(200);
        happenings.push({ answered: 'other publish' });
      });
    };
    const response = await publish(publisher, batch);
    expect(response.statusCode, response.body).toBe(200);

    const pieces = happenings.flatMap((h, at) => ('commit' in h && h.commit.some((id) => id.startsWith('fan-')) ? [at] : []));
    // 60 events of 20 deliveries each, 100 rows a commit: twelve pieces.
    expect(pieces).toHaveLength(12);
    const answeredAt = (what: string) => happenings.findIndex((h) => 'answered' in h && h.answered === what);
    expect(answeredAt('health')).toBeGreaterThan(-1);
    expect(answeredAt('health')).toBeLessThan(pieces.at(-1) as number);
    expect(answeredAt('other publish')).toBeGreaterThan(-1);
    expect(answeredAt('other publish')).toBeLessThan(pieces.at(-1) as number);
    for (const queue of await queues()) expect(queue).toEqual(batch.map((event) => event.id));
  });

  it('answers 503 when a later piece fails; the retry answers 200 and every event has each delivery once', async () => {
    const batch = Array.from({ length: 20 }, (_, i) => sampleEvent({ id: `retry-${i}`, resource }));
    // The third piece fails in its commit and again when retried alone.
    failCommits = new Set([3, 4]);
    const failed = await publish(publisher, batch);
    expect(failed.statusCode, failed.body).toBe(503);
    expect(failed.headers['retry-after']).toBe('1');
    const storedFirst = batch.slice(0, 10).map((event) => event.id);
    for (const queue of await queues()) expect(queue).toEqual(storedFirst);

    const retried = await publish(publisher, batch);
    expect(retried.statusCode, retried.body).toBe(200);
    const queued = await queues();
    expect(queued).toHaveLength(subscriptions);
    for (const queue of queued) expect(queue).toEqual(batch.map((event) => event.id));
    const log = await store.readEvents({ afterSeq: 0, limit: 100 });
    expect(log.map((row) => (JSON.parse(row.payload) as { id: string }).id)).toEqual(batch.map((event) => event.id));
  });
});
