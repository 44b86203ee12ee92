import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { attributeLimits, extensionLimits } from '../../src/domain/attribute-limits.js';
import type { ValidEvent } from '../../src/domain/cloudevent.js';
import { GroupCommitAppender } from '../../src/store/group-commit.js';
import { isRefusedByStore } from '../../src/store/store-errors.js';
import type { Store } from '../../src/store/store.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { seededRandom } from '../support/random.js';
import { createTestApp, sampleEvent, type TestApp, validEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { eventsPath, expectFieldError, recordingInject } from '../http/harness.js';

const structured = 'application/cloudevents+json';
const batch = 'application/cloudevents-batch+json';
const random = seededRandom(12);
const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.';

/** Random ASCII text, which no index can compress. */
function randomText(length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += random.pick([...alphabet]);
  return text;
}

/** Random characters of four UTF-8 bytes each (two UTF-16 units), `bytes` bytes in all: the worst case. */
function randomWideText(bytes: number): string {
  let text = '';
  for (let i = 0; i < bytes / 4; i++) text += String.fromCodePoint(0x20000 + Math.floor(random.next() * 0xa000));
  return text;
}

/** A random resource URN as long as Altinn's rule allows: 30 + 10 × 100 characters after `urn:`. */
function longestResource(): string {
  const segment = (n: number, chars: string) => Array.from({ length: n }, () => random.pick([...chars])).join('');
  const parts = Array.from({ length: 10 }, () => segment(100, 'abcdefghijklmnopqrstuvwxyz0123456789()+,.-;$_!/'));
  return `urn:${segment(30, 'abcdefghijklmnopqrstuvwxyz0123456789-')}:${parts.join(':')}`;
}

/** What to send for each attribute to make it 3,000 characters of random text. */
const oversized: Record<string, () => unknown> = {
  id: () => randomText(3_000),
  source: () => `https://oversized.test/${randomText(3_000)}`,
  type: () => randomText(3_000),
  subject: () => `/party/${randomText(3_000)}`,
  alternativesubject: () => `/person/${randomText(3_000)}`,
  resourceinstance: () => randomText(3_000),
  dataschema: () => `https://schemas.test/${randomText(3_000)}`,
  datacontenttype: () => `application/${randomText(3_000)}+json`,
  time: () => `2020-02-20T08:00:06.${'1'.repeat(3_000)}Z`,
  traceparent: () => randomText(5_000),
};

describeEachEngine('A stored attribute over its limit is refused, naming it, on $name', (engine) => {
  let t: TestApp;
  let http: ReturnType<typeof recordingInject>;

  beforeAll(async () => {
    t = await createTestApp(engine);
    http = recordingInject(t.app);
  });
  afterAll(async () => t?.close());
  afterEach(() => {
    expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
  });

  const publish = (payload: string, contentType = structured, headers: Record<string, string> = {}) =>
    http.inject({ method: 'POST', url: eventsPath, headers: { ...t.auth, 'content-type': contentType, ...headers }, payload });

  async function storedFrom(source: string): Promise<Record<string, unknown>[]> {
    const response = await http.inject({ method: 'GET', url: `${eventsPath}?${new URLSearchParams({ after: '0', source })}`, headers: t.auth });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  }

  it.each(Object.keys(oversized))('refuses a 3,000-character %s in structured, batch and binary mode', async (name) => {
    const value = (oversized[name] as () => unknown)();
    const source = `https://oversized.test/${crypto.randomUUID()}`;
    const event = sampleEvent({ source, [name]: value });

    expectFieldError(await publish(JSON.stringify(event)), 'events:invalidEvent', name, /at most/);
    expectFieldError(
      await publish(JSON.stringify([sampleEvent({ source }), event]), batch),
      'events:invalidEvent',
      `[1].${name}`,
      /at most/,
    );
    const headers: Record<string, string> = {};
    for (const [attribute, v] of Object.entries(event)) {
      if (attribute !== 'datacontenttype') headers[`ce-${attribute}`] = encodeURIComponent(String(v));
    }
    const binaryType = name === 'datacontenttype' ? String(value) : 'application/json';
    const field = name === 'datacontenttype' ? 'content-type' : `ce-${name}`;
    expectFieldError(await publish('{}', binaryType, headers), 'events:invalidEvent', field, /at most/);
    expect(await storedFrom(source)).toEqual([]);
  });

  it('refuses an id of 1,000 three-byte characters: limits count UTF-8 bytes', async () => {
    const event = sampleEvent({ id: '€'.repeat(1_000) });
    expectFieldError(await publish(JSON.stringify(event)), 'events:invalidEvent', 'id', /at most 1024 bytes/);
  });

  it('refuses an extension attribute name over its limit', async () => {
    const name = 'x'.repeat(extensionLimits.name + 1);
    expectFieldError(await publish(JSON.stringify(sampleEvent({ [name]: 'v' }))), 'events:invalidEvent', name, /at most/);
  });

  it('stores an event whose every indexed attribute is at its limit in four-byte characters (every index entry fits)', async () => {
    const source = `https://limits.test/${randomText(attributeLimits.source - 'https://limits.test/'.length)}`;
    const event = sampleEvent({
      id: randomWideText(attributeLimits.id),
      source,
      type: randomWideText(attributeLimits.type),
      subject: randomWideText(attributeLimits.subject),
      alternativesubject: randomWideText(attributeLimits.alternativesubject),
      resourceinstance: randomWideText(attributeLimits.resourceinstance),
      resource: longestResource(),
    });
    const response = await publish(JSON.stringify(event));
    expect(response.statusCode, response.body).toBe(200);
    expect(await storedFrom(source)).toEqual([event]);
  });
});

describeEachEngine('Four oversized and twelve well-formed publishes sent together, on $name', (engine) => {
  let t: TestApp;
  let rogue: { authorization: string };

  beforeAll(async () => {
    t = await createTestApp(engine);
    rogue = { authorization: `Bearer ${await testToken({ claims: { org: 'rogue' } })}` };
  });
  afterAll(async () => t?.close());

  it('gives 36 × 200 to the well-formed ones over three rounds, and 400 to every oversized one', async () => {
    const goodStatuses: number[] = [];
    const badStatuses: number[] = [];
    const source = `https://well-formed.test/${crypto.randomUUID()}`;
    for (let round = 0; round < 3; round++) {
      const bad = ['id', 'subject', 'source', 'id'].map((name) =>
        t.app.inject({
          method: 'POST',
          url: eventsPath,
          headers: { ...rogue, 'content-type': structured },
          payload: JSON.stringify(sampleEvent({ [name]: (oversized[name] as () => unknown)() })),
        }),
      );
      const good = Array.from({ length: 12 }, () =>
        t.app.inject({
          method: 'POST',
          url: eventsPath,
          headers: { ...t.auth, 'content-type': structured },
          payload: JSON.stringify(sampleEvent({ source })),
        }),
      );
      const answers = await Promise.all([...bad, ...good]);
      badStatuses.push(...answers.slice(0, 4).map((a) => a.statusCode));
      goodStatuses.push(...answers.slice(4).map((a) => a.statusCode));
    }
    expect(goodStatuses).toEqual(Array(36).fill(200));
    expect(badStatuses).toEqual(Array(12).fill(400));
    const polled = await t.app.inject({ method: 'GET', url: `${eventsPath}?${new URLSearchParams({ after: '0', source, size: '100' })}`, headers: t.auth });
    expect(polled.json()).toHaveLength(36);
  });
});

describeEachEngine('The appender keeps a request the database refuses to itself, on $name', (engine) => {
  let db: TestDatabase;
  let store: Store;

  beforeAll(async () => {
    db = await engine.create();
    store = await db.open();
  });
  afterAll(async () => db?.destroy());

  /**
   * Events that bypass validation, so the database itself refuses them: a missing id breaks NOT NULL on both
   * engines; on PostgreSQL a 3,000-character random id also overflows the (source, id) index entry. SQLite
   * has no index entry limit (its strings may reach 1 GB), so NOT NULL is its honest refusal.
   */
  function refusedEvents(): ValidEvent[] {
    const missingId = () => ({ ...validEvent(), id: null as unknown as string });
    const tooLong = () => ({ ...validEvent(), id: randomText(3_000) });
    return engine.name === 'postgres' ? [missingId(), tooLong(), missingId(), tooLong()] : [missingId(), missingId(), missingId(), missingId()];
  }

  it('stores the well-formed requests of a shared commit and fails only the refused ones, with a client-class error', async () => {
    const appender = new GroupCommitAppender(store);
    const bad = refusedEvents().map((event) => appender.append([event]));
    const goodEvents = Array.from({ length: 12 }, () => validEvent());
    const good = goodEvents.map((event) => appender.append([event]));
    const badOutcomes = await Promise.allSettled(bad);
    const goodOutcomes = await Promise.allSettled(good);

    expect(goodOutcomes.map((o) => (o.status === 'fulfilled' ? o.value : o.reason?.message))).toEqual(Array(12).fill([true]));
    for (const outcome of badOutcomes) {
      expect(outcome.status).toBe('rejected');
      expect(isRefusedByStore((outcome as PromiseRejectedResult).reason), String((outcome as PromiseRejectedResult).reason)).toBe(true);
    }
    for (const event of goodEvents) expect(await store.findEventPosition(event.id, event.source)).toEqual(expect.any(Number));
  });
});

describeEachEngine('A store refusal on any route is the client’s error, on $name', (engine) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(engine);
  });
  afterAll(async () => t?.close());

  it('answers a token whose identity (a 3,000-character org claim) could not be indexed with a 401, never a 5xx', async () => {
    const token = await testToken({ claims: { org: randomText(3_000).toLowerCase() } });
    const response = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: { authorization: `Bearer ${token}` },
      payload: { resourceFilter: 'urn:altinn:resource:herald.test' },
    });
    // PostgreSQL would refuse the (consumer, id) index entry; identities are limited to 1,024 characters
    // encoded, so the token is refused before the store is asked, on both engines alike.
    expect(response.statusCode, response.body).toBe(401);
    expect(response.body).not.toMatch(/btree|row size|subscriptions_consumer|54000/);
    expect(await t.store.subscriptions.listAll()).toEqual([]);
  });
});

describeEachEngine('A subscription field over its limit is refused, naming it, on $name', (engine) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(engine);
  });
  afterAll(async () => t?.close());

  it.each([
    ['endPoint', () => `https://hooks.test/${randomText(3_000)}`],
    ['sourceFilter', () => `https://oversized.test/${randomText(3_000)}`],
    ['subjectFilter', () => `/party/${randomText(3_000)}`],
    ['alternativeSubjectFilter', () => `/person/${randomText(3_000)}`],
    ['typeFilter', () => randomText(3_000)],
  ])('refuses a 3,000-character %s and stores nothing', async (field, value) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: t.auth,
      payload: { resourceFilter: 'urn:altinn:resource:herald.test', [field]: value() },
    });
    expectFieldError(response, 'events:invalidRequest', field, /at most/);
    const listed = await t.app.inject({ method: 'GET', url: '/events/api/v1/subscriptions', headers: t.auth });
    expect(JSON.stringify(listed.json())).not.toContain('oversized.test');
  });
});
