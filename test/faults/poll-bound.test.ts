import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseSourceFilter } from '../../src/domain/source-filter.js';
import { parseTextPattern } from '../../src/domain/text-pattern.js';
import type { LogQuery, Store } from '../../src/store/store.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { validEvent } from '../support/test-app.js';

const idOf = (payload: string) => (JSON.parse(payload) as { id: string }).id;

/** 300 events; every 37th has type `rare.match` and subject /party/rare, the rest other types and subjects. */
const log = Array.from({ length: 300 }, (_, i) =>
  validEvent({
    id: `e${i}`,
    type: i % 37 === 5 ? 'rare.match' : `common.${i % 4}`,
    subject: i % 37 === 5 ? '/party/rare' : `/party/${i % 9}`,
  }),
);
const expected = log.filter((_, i) => i % 37 === 5).map((event) => event.id);

/** Follows the log as a poller follows `next`, collecting every match and counting the reads. */
async function follow(store: Store, query: Omit<LogQuery, 'afterSeq' | 'limit'>, limit: number) {
  const seen: string[] = [];
  let after = 0;
  let reads = 0;
  const head = await store.headPosition();
  while (after < head && reads < 1000) {
    const page = await store.readLog({ ...query, afterSeq: after, limit });
    reads += 1;
    seen.push(...page.events.map((event) => idOf(event.payload)));
    after = page.events.length === limit ? page.events.at(-1)!.seq : (page.examinedThrough ?? head);
  }
  return { seen, reads };
}

describeEachEngine('A poll examines a bounded number of log rows, on $name', (engine) => {
  let db: TestDatabase;
  let store: Store;
  beforeEach(async () => {
    db = await engine.create();
    store = await db.open();
    await store.appendEvents(log);
  });
  afterEach(async () => {
    await db?.destroy();
  });

  it('stops an unindexable read after its bound and says how far it examined', async () => {
    const page = await store.readLog({ afterSeq: 0, limit: 50, examineAtMost: 40, types: [parseTextPattern('%match')] });
    const positions = (await store.readEvents({ afterSeq: 0, limit: 1000 })).map((event) => event.seq);
    // The 40th row of the log is where it stopped; only matches up to there are answered.
    expect(page.examinedThrough).toBe(positions[39]);
    expect(page.events.map((event) => idOf(event.payload))).toEqual(['e5']);
  });

  it('counts only the rows of the filter’s index when an equality filter serves the read', async () => {
    const page = await store.readLog({ afterSeq: 0, limit: 50, examineAtMost: 5, subject: '/party/rare' });
    const rare = (await store.readEvents({ afterSeq: 0, limit: 1000, subject: '/party/rare' })).map((e) => e.seq);
    // Five index entries examined, all of them matches, however far apart they lie in the log.
    expect(page.events.map((event) => event.seq)).toEqual(rare.slice(0, 5));
    expect(page.examinedThrough).toBe(rare[4]);
  });

  it('reads to the end of the log, with no bound to report, when fewer rows than the bound follow', async () => {
    const page = await store.readLog({ afterSeq: 0, limit: 50, examineAtMost: 1000, source: parseSourceFilter('%nomatch') });
    expect(page).toEqual({ events: [], examinedThrough: undefined });
  });

  it('sees every sparse match exactly once, in order, when following the bound page after page', async () => {
    const unindexed = await follow(store, { types: [parseTextPattern('rare.%')], examineAtMost: 25 }, 3);
    expect(unindexed.seen).toEqual(expected);
    // 300 rows, 25 per read: the bound, not the page size, sets how many reads it takes.
    expect(unindexed.reads).toBeGreaterThanOrEqual(12);
    const indexed = await follow(store, { subject: '/party/rare', examineAtMost: 2 }, 3);
    expect(indexed.seen).toEqual(expected);
  });

  it('answers the same page as bytes (what GET /events sends) as it does as rows, bounded or not', async () => {
    const queries: LogQuery[] = [
      { afterSeq: 0, limit: 50, examineAtMost: 40, types: [parseTextPattern('%match')] },
      { afterSeq: 0, limit: 50, examineAtMost: 5, subject: '/party/rare' },
      { afterSeq: 0, limit: 3, examineAtMost: 1000, subject: '/party/rare' },
      { afterSeq: 0, limit: 50, examineAtMost: 1000, source: parseSourceFilter('%nomatch') },
      { afterSeq: 0, limit: 1000, examineAtMost: 10_000 },
      { afterSeq: 0, limit: 20, examineAtMost: 100, types: [parseTextPattern('common.1'), parseTextPattern('rare.%')] },
      { afterSeq: 0, limit: 50 },
    ];
    const positions = (await store.readEvents({ afterSeq: 0, limit: 1000 })).map((event) => event.seq);
    for (const query of [...queries, ...queries.map((q) => ({ ...q, afterSeq: positions[100]! }))]) {
      const rows = await store.readLog(query);
      const bytes = await store.readLogBytes(query);
      expect(Buffer.from(bytes.body).toString(), JSON.stringify(query)).toBe(`[${rows.events.map((e) => e.payload).join(',')}]`);
      expect(bytes.seqs).toEqual(rows.events.map((event) => event.seq));
      expect(bytes.examinedThrough).toBe(rows.examinedThrough);
    }
  });
});
