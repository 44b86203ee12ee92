import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Policy, policyAuthorizer } from '../../src/domain/policy.js';
import { PollReadAhead } from '../../src/http/poll-read-ahead.js';
import type { LogPageBytes, LogQuery } from '../../src/store/store.js';
import { describeEachEngine } from '../support/engines.js';
import { baseUrl, createTestApp, defaultLimits, sampleEvent, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { dayMs, hourMs, retentionOf } from '../store/retention-harness.js';
import { eventsPath, expectProblem } from './harness.js';

const resource = 'urn:altinn:resource:read-ahead.test';

/** The read-ahead, counting the pages it handed out. */
class WatchedReadAhead extends PollReadAhead {
  used = 0;
  override async take(consumer: string, query: LogQuery): Promise<LogPageBytes | undefined> {
    const page = await super.take(consumer, query);
    if (page) this.used++;
    return page;
  }
}

describeEachEngine('Polling with pages read ahead on $name', (engine) => {
  let t: TestApp;
  let readAhead: WatchedReadAhead;
  let policy: Policy;
  let otherAuth: { authorization: string };
  beforeEach(async () => {
    readAhead = new WatchedReadAhead();
    // /org/ttd may read only /party/1's events; /org/other may read them all.
    policy = {
      grants: [
        { consumer: '/org/ttd', actions: ['publish'], resources: ['*'] },
        { consumer: '/org/ttd', actions: ['subscribe', 'read'], resources: [resource], subjects: ['/party/1'] },
        { consumer: '/org/other', actions: ['subscribe', 'read'], resources: [resource] },
      ],
    };
    t = await createTestApp(engine, defaultLimits, { authorizer: policyAuthorizer(() => policy), pollReadAhead: readAhead });
    otherAuth = { authorization: `Bearer ${await testToken({ claims: { org: 'other' } })}` };
  });
  afterEach(async () => {
    await t?.close();
  });

  const publish = async (...events: [string, string][]) => {
    const response = await t.app.inject({
      method: 'POST',
      url: eventsPath,
      headers: { ...t.auth, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify(events.map(([id, subject]) => sampleEvent({ id, subject, resource }))),
    });
    expect(response.statusCode, response.body).toBe(200);
  };
  const poll = async (url: string, auth = t.auth) => {
    const response = await t.app.inject({ method: 'GET', url: url.replace(baseUrl, ''), headers: auth });
    expect(response.statusCode, response.body).toBe(200);
    await readAhead.idle();
    return { ids: (response.json() as { id: string }[]).map((e) => e.id), next: response.headers.next as string };
  };
  const first = `${eventsPath}?after=0&resource=${resource}&size=2`;

  it('serves the next page from the read-ahead, and sees events published after it, each once', async () => {
    await publish(['e1', '/party/1'], ['e2', '/party/1'], ['e3', '/party/1'], ['e4', '/party/1'], ['e5', '/party/1']);
    const one = await poll(first);
    expect(one.ids).toEqual(['e1', 'e2']);
    await publish(['e6', '/party/1']);
    const two = await poll(one.next);
    const three = await poll(two.next);
    const four = await poll(three.next);
    const five = await poll(four.next);
    expect([two.ids, three.ids, four.ids, five.ids]).toEqual([['e3', 'e4'], ['e5', 'e6'], [], []]);
    // Pages two and three were read ahead; the end of the log never is.
    expect(readAhead.used).toBe(2);
    await publish(['e7', '/party/1']);
    expect((await poll(five.next)).ids).toEqual(['e7']);
  });

  it('never serves one consumer the page read ahead for another: each sees what its own grants allow', async () => {
    await publish(['a1', '/party/1'], ['a2', '/party/2'], ['a3', '/party/2'], ['a4', '/party/1']);
    const ttd = await poll(first);
    expect(ttd.ids).toEqual(['a1']);
    const other = await poll(ttd.next, otherAuth);
    expect(other.ids).toEqual(['a3', 'a4']);
    expect(readAhead.used).toBe(0);
    expect((await poll(ttd.next)).ids).toEqual(['a4']);
    expect(readAhead.used).toBe(1);
  });

  it('applies the grants in force when the page is served, not when it was read', async () => {
    await publish(['g1', '/party/1'], ['g2', '/party/1'], ['g3', '/party/1'], ['g4', '/party/2']);
    const one = await poll(first);
    expect(one.ids).toEqual(['g1', 'g2']);
    policy = { grants: policy.grants.map((g) => (g.consumer === '/org/ttd' && g.subjects ? { ...g, subjects: ['/party/2'] } : g)) };
    expect((await poll(one.next)).ids).toEqual(['g4']);
    expect(readAhead.used).toBe(1);
  });

  it('answers 410 when retention removed the events of a page read ahead', async () => {
    await publish(['r1', '/party/1'], ['r2', '/party/1'], ['r3', '/party/1'], ['r4', '/party/1']);
    const one = await poll(first);
    expect(readAhead.size().pages).toBe(1);
    const retention = retentionOf(t);
    await retention.runOnce();
    t.clock.advance(8 * dayMs);
    await retention.runOnce();
    await publish(['young', '/party/1']);
    t.clock.advance(90 * dayMs + hourMs);
    await retention.runOnce();
    const response = await t.app.inject({ method: 'GET', url: one.next.replace(baseUrl, ''), headers: t.auth });
    expectProblem(response, 410, 'events:cursorExpired');
  });
});
