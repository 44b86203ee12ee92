import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseTextPattern } from '../../src/domain/text-pattern.js';
import type { Store } from '../../src/store/store.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { validEvent } from '../support/test-app.js';

/** Altinn-shaped: a source per instance, so no index is flattered by a fixed one. */
function instanceEvent(n: number) {
  const instance = crypto.randomUUID();
  return validEvent({
    source: `https://ttd.apps.altinn.example/ttd/app/instances/${50_000 + (n % 5_000)}/${instance}`,
    type: `app.instance.${['created', 'process.movedTo', 'process.completed'][n % 3]}`,
    subject: `/party/${50_000 + (n % 5_000)}`,
    data: { padding: 'x'.repeat(200) },
  });
}

/** A hundred `%` patterns that no index serves and that match nothing: each read checks every row. */
const unindexableTypes = Array.from({ length: 100 }, (_, i) => parseTextPattern(`%nomatch-${i}%`));

/**
 * The stall of issue 13, as an ordering: while more expensive scans run than there are readers (SQLite's
 * reader threads, PostgreSQL's read slots, or its whole pool), another consumer's publish completes, and the
 * event loop keeps turning, before any scan completes. Before, SQLite ran every scan on the event loop, and
 * on PostgreSQL twelve scans took the pool's ten connections with the publish queued behind them.
 */
describeEachEngine('A publish completes while expensive scans run, on $name', (engine) => {
  let db: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    db = await engine.create();
    store = await db.open();
    for (let batch = 0; batch < 15; batch++) {
      await store.appendEvents(Array.from({ length: 2_000 }, (_, i) => instanceEvent(batch * 2_000 + i)));
    }
  }, 120_000);
  afterAll(async () => {
    await db?.destroy();
  });

  it("answers another consumer's publish, and turns the event loop, before the first of twelve scans ends", async () => {
    const order: string[] = [];
    // Unbounded reads (no examineAtMost): each walks all 30,000 rows against a hundred patterns.
    const scans = Array.from({ length: 12 }, (_, i) =>
      store.readLog({ afterSeq: 0, limit: 100, types: unindexableTypes }).then((page) => {
        order.push(`scan ${i}`);
        return page;
      }),
    );
    const turned = new Promise<void>((resolve) =>
      setTimeout(() => {
        order.push('event loop');
        resolve();
      }, 0),
    );
    const published = store.appendEvents([instanceEvent(-1)]).then((stored) => {
      order.push('publish');
      return stored;
    });
    expect(await published).toEqual([true]);
    await turned;
    const pages = await Promise.all(scans);
    expect(pages.every((page) => page.events.length === 0)).toBe(true);
    const firstScan = order.findIndex((entry) => entry.startsWith('scan'));
    expect(order.indexOf('publish')).toBeLessThan(firstScan);
    expect(order.indexOf('event loop')).toBeLessThan(firstScan);
  });
});
