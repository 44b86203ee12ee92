import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { dayMs, hourMs, retentionOf } from '../store/retention-harness.js';
import { eventsPath, expectProblem } from './harness.js';
import { pullClient, pullResource } from './pull-harness.js';

describeEachEngine('Polling across retention on $name', (engine) => {
  let herald: TestApp;
  beforeEach(async () => {
    herald = await createTestApp(engine);
  });
  afterEach(async () => {
    await herald.close();
  });

  const poll = (after: string) =>
    herald.app.inject({
      method: 'GET',
      url: `${eventsPath}?resource=${encodeURIComponent(pullResource)}&after=${encodeURIComponent(after)}`,
      headers: herald.auth,
    });

  /** Publishes `old-1..3`, ages them past retention, publishes `young-1`, and sweeps. @returns a next link from before */
  async function ageOldEvents(): Promise<string> {
    const client = pullClient(herald.app, herald.auth);
    const retention = retentionOf(herald);
    await client.publish('old-1', 'old-2');
    const first = await poll('0');
    expect(first.statusCode, first.body).toBe(200);
    const staleNext = new URL(first.headers.next as string).searchParams.get('after') as string;
    await client.publish('old-3');
    await retention.runOnce();
    herald.clock.advance(8 * dayMs);
    await retention.runOnce();
    await client.publish('young-1');
    herald.clock.advance(90 * dayMs + hourMs);
    await retention.runOnce();
    return staleNext;
  }

  it('answers 410 events:cursorExpired for the id of a removed event, naming where the kept log starts', async () => {
    await ageOldEvents();
    const response = await poll('old-1');
    const problem = expectProblem(response, 410, 'events:cursorExpired');
    const restart = /after=(~\d+)/.exec(problem.detail)?.[1] as string;
    const resumed = await poll(restart);
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(resumed.json().map((e: { id: string }) => e.id)).toEqual(['young-1']);
  });

  it('answers 410 for a next-link position from before retention, and 200 from the start', async () => {
    const staleNext = await ageOldEvents();
    expect(staleNext).toMatch(/^~\d+$/);
    expectProblem(await poll(staleNext), 410, 'events:cursorExpired');
    const fromStart = await poll('0');
    expect(fromStart.statusCode).toBe(200);
    expect(fromStart.json().map((e: { id: string }) => e.id)).toEqual(['young-1']);
  });

  it('still answers 400 events:unknownCursor for an id that never existed, and 200 for a kept event', async () => {
    await ageOldEvents();
    expectProblem(await poll('never-published'), 400, 'events:unknownCursor');
    const kept = await poll('young-1');
    expect(kept.statusCode, kept.body).toBe(200);
    expect(kept.json()).toEqual([]);
  });

  it('refuses an event stream resuming from before retention the same way: 410, in after or Last-Event-ID', async () => {
    const staleNext = await ageOldEvents();
    const stream = (after: string, headers: Record<string, string> = {}) =>
      herald.app.inject({
        method: 'GET',
        url: `${eventsPath}/stream?resource=${encodeURIComponent(pullResource)}&after=${encodeURIComponent(after)}`,
        headers: { ...herald.auth, ...headers },
      });
    expectProblem(await stream('old-1'), 410, 'events:cursorExpired');
    expectProblem(await stream('0', { 'last-event-id': staleNext }), 410, 'events:cursorExpired');
  });
});
