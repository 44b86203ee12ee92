import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { startHeraldProcess } from '../support/herald-process.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

describeEachEngine('A crash under load, on $name', (engine) => {
  let db: TestDatabase;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    db = await engine.create();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await db.destroy();
  });

  it('loses nothing it acknowledged: after SIGKILL and a restart every 200 is stored, exactly once', async () => {
    const first = await startHeraldProcess(db.database, { HERALD_PUBLISH_RATE_LIMIT: '0', HERALD_READ_RATE_LIMIT: '0' });
    children.push(first.child);
    const authorization = `Bearer ${await testToken()}`;
    // A pull subscription matching every event: its queue shows whether each acknowledged event kept its delivery.
    const created = await fetch(`${first.base}/events/api/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ sourceFilter: 'https://crash.example/' }),
    });
    expect(created.status).toBe(201);
    const { id: subscriptionId } = (await created.json()) as { id: number };
    const acknowledged: string[] = [];
    let stop = false;
    let sent = 0;
    const publisher = async (worker: number) => {
      while (!stop) {
        const id = `crash-${worker}-${sent++}`;
        const response = await fetch(`${first.base}/events/api/v1/events`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify(sampleEvent({ id, source: 'https://crash.example/' })),
        }).catch(() => undefined);
        if (response?.status === 200) acknowledged.push(id);
        await response?.body?.cancel();
      }
    };
    const publishing = Promise.all(Array.from({ length: 16 }, (_, worker) => publisher(worker)));
    while (acknowledged.length < 300) await new Promise((resolve) => setTimeout(resolve, 10));
    first.child.kill('SIGKILL'); // mid-load: commits in flight, requests unanswered
    await new Promise((resolve) => first.child.once('exit', resolve));
    stop = true;
    await publishing;

    const second = await startHeraldProcess(db.database, { HERALD_PUBLISH_RATE_LIMIT: '0', HERALD_READ_RATE_LIMIT: '0' });
    children.push(second.child);
    const seen: string[] = [];
    let url = `${second.base}/events/api/v1/events?after=0&source=${encodeURIComponent('https://crash.example/')}&size=1000`;
    for (;;) {
      const response = await fetch(url, { headers: { authorization } });
      expect(response.status).toBe(200);
      const page = (await response.json()) as { id: string }[];
      if (page.length === 0) break;
      seen.push(...page.map((e) => e.id));
      url = response.headers.get('next') as string;
    }
    expect(new Set(seen).size).toBe(seen.length); // exactly once
    const stored = new Set(seen);
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]); // every acknowledged event survived

    // And every stored event is still queued for the matching subscription: its delivery was committed with it.
    const queued: string[] = [];
    let checkPoint: string | undefined;
    for (;;) {
      const query = new URLSearchParams({ limit: '5000', ...(checkPoint ? { checkPoint } : {}) });
      const response = await fetch(`${second.base}/events/api/v1/subscriptions/${subscriptionId}/events?${query}`, {
        headers: { authorization },
      });
      expect(response.status).toBe(200);
      const page = (await response.json()) as { checkPoint: string; events: { id: string }[] };
      if (page.events.length === 0) break;
      queued.push(...page.events.map((e) => e.id));
      checkPoint = page.checkPoint;
    }
    expect([...queued].sort()).toEqual([...seen].sort());
  }, 60_000);
});
