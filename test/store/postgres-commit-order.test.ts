import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postgresEngine, type TestDatabase } from '../support/engines.js';
import { assembleHerald, baseUrl, sampleEvent, validEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

const event = (id: string) => validEvent({ id });

/** A promise with its resolver, to hold a transaction open at a chosen moment. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe.skipIf(!postgresEngine.available)('PostgreSQL commit order', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await postgresEngine.create();
  });
  afterEach(async () => {
    await db.destroy();
  });

  it('a writer cannot commit a later position while an earlier one is still open, so no poller skips it', async () => {
    const holdCommit = gate();
    const insideTransaction = gate();
    const writerA = await db.open({
      beforeCommit: async () => {
        insideTransaction.open();
        await holdCommit.opened;
      },
    });
    const writerB = await db.open();
    const reader = await db.open();

    const appendA = writerA.appendEvents([event('from-a')]);
    await insideTransaction.opened; // A has drawn its sequence number and not committed
    let bCommitted = false;
    const appendB = writerB.appendEvents([event('from-b')]).then((result) => {
      bCommitted = true;
      return result;
    });

    // Without the append lock B would commit a higher seq now, a poller would pass it, and A's event would
    // later appear behind the poller's position.
    const duringA = await reader.readEvents({ afterSeq: 0, limit: 10 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bCommitted).toBe(false);
    expect(duringA).toEqual([]);

    holdCommit.open();
    await Promise.all([appendA, appendB]);
    const after = await reader.readEvents({ afterSeq: 0, limit: 10 });
    expect(after.map((row) => JSON.parse(row.payload).id)).toEqual(['from-a', 'from-b']);
  });

  it('a poller following next links while two Herald processes publish concurrently sees every event exactly once', async () => {
    const heralds = await Promise.all([0, 1, 2].map(async () => assembleHerald(await db.open({ maxConnections: 4 }))));
    const apps = heralds.map((h) => h.app);
    const [processA, processB, pollerApp] = apps as [(typeof apps)[0], (typeof apps)[0], (typeof apps)[0]];
    const authorization = `Bearer ${await testToken()}`;
    const perWriter = 300;

    const publishAll = async (app: typeof processA, prefix: string) => {
      for (let i = 0; i < perWriter; i += 10) {
        // Ten concurrent requests at a time, so group commits of varying size interleave across processes.
        await Promise.all(
          Array.from({ length: 10 }, (_, k) =>
            app
              .inject({
                method: 'POST',
                url: '/events/api/v1/events',
                headers: { authorization, 'content-type': 'application/cloudevents+json' },
                payload: sampleEvent({ id: `${prefix}-${i + k}` }),
              })
              .then((response) => expect(response.statusCode).toBe(200)),
          ),
        );
      }
    };

    const seen: string[] = [];
    let writing = true;
    const poll = async () => {
      let url = '/events/api/v1/events?after=0&resource=urn:altinn:resource:dodsbo.domstoladmin.api&size=7';
      for (;;) {
        const done = !writing;
        const response = await pollerApp.inject({ method: 'GET', url, headers: { authorization } });
        expect(response.statusCode).toBe(200);
        const page = response.json() as { id: string }[];
        seen.push(...page.map((e) => e.id));
        url = response.headers.next!.toString().replace(baseUrl, '');
        if (done && page.length === 0) return;
      }
    };

    const polling = poll();
    await Promise.all([publishAll(processA, 'a'), publishAll(processB, 'b')]);
    writing = false;
    await polling;
    for (const herald of heralds) await herald.close();

    expect(seen).toHaveLength(2 * perWriter);
    expect(new Set(seen).size).toBe(2 * perWriter);
  });
});
