import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSourceFilter } from '../../src/domain/source-filter.js';
import { parseTextPattern } from '../../src/domain/text-pattern.js';
import type { Store } from '../../src/store/store.js';
import { engines, type TestDatabase } from '../support/engines.js';
import { validEvent } from '../support/test-app.js';

const event = validEvent;

const ids = (rows: { payload: string }[]) =>
  rows.map((row) => (JSON.parse(row.payload) as { id: string }).id);

describe.each(engines)('Store contract on $name', (engine) => {
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

  it('appends events in one transaction and reads them back in commit order, payload unchanged', async () => {
    const batch = [event({ id: 'a' }), event({ id: 'b' }), event({ id: 'c' })];
    expect(await store.appendEvents(batch)).toEqual([true, true, true]);
    const rows = await store.readEvents({ afterSeq: 0, limit: 10 });
    expect(ids(rows)).toEqual(['a', 'b', 'c']);
    expect(rows.map((r) => r.payload)).toEqual(batch.map((e) => e.payload));
    expect(rows[0]!.seq).toBeLessThan(rows[1]!.seq);
  });

  it('is idempotent on (source, id): a repeat stores nothing and reports it was not new', async () => {
    await store.appendEvents([event({ id: 'x' })]);
    expect(await store.appendEvents([event({ id: 'x' }), event({ id: 'x', source: 'urn:other' })])).toEqual([
      false,
      true,
    ]);
    expect(await store.readEvents({ afterSeq: 0, limit: 10 })).toHaveLength(2);
  });

  it('stores two equal events of one batch once, reporting only the first as new', async () => {
    expect(await store.appendEvents([event({ id: 'd' }), event({ id: 'd' })])).toEqual([true, false]);
    expect(await store.readEvents({ afterSeq: 0, limit: 10 })).toHaveLength(1);
  });

  it('pages by position and limit', async () => {
    await store.appendEvents(Array.from({ length: 7 }, (_, i) => event({ id: `e${i}` })));
    const first = await store.readEvents({ afterSeq: 0, limit: 3 });
    const second = await store.readEvents({ afterSeq: first.at(-1)!.seq, limit: 3 });
    const third = await store.readEvents({ afterSeq: second.at(-1)!.seq, limit: 3 });
    expect([...ids(first), ...ids(second), ...ids(third)]).toEqual([
      'e0',
      'e1',
      'e2',
      'e3',
      'e4',
      'e5',
      'e6',
    ]);
    expect(await store.readEvents({ afterSeq: third.at(-1)!.seq, limit: 3 })).toEqual([]);
  });

  it('filters by resource, subject, alternative subject and types, all combined', async () => {
    await store.appendEvents([
      event({ id: '1', resource: 'urn:altinn:resource:a', subject: '/party/1', type: 't.created' }),
      event({ id: '2', resource: 'urn:altinn:resource:b', subject: '/party/1', type: 't.created' }),
      event({ id: '3', resource: 'urn:altinn:resource:a', subject: '/party/2', type: 't.deleted' }),
      event({
        id: '4',
        resource: 'urn:altinn:resource:a',
        alternativesubject: '/person/16069412345',
        type: 't.created',
      }),
    ]);
    const read = (query: object) => store.readEvents({ afterSeq: 0, limit: 10, ...query }).then(ids);
    expect(await read({ resource: 'urn:altinn:resource:a' })).toEqual(['1', '3', '4']);
    expect(await read({ resource: 'urn:altinn:resource:a', subject: '/party/1' })).toEqual(['1']);
    expect(await read({ alternativesubject: '/person/16069412345' })).toEqual(['4']);
    expect(
      await read({
        types: [parseTextPattern('t.deleted'), parseTextPattern('t.created')],
        subject: '/party/2',
      }),
    ).toEqual(['3']);
    expect(await read({ types: [parseTextPattern('t.%')], resource: 'urn:altinn:resource:b' })).toEqual([
      '2',
    ]);
  });

  it('matches a source URI and the paths below it, or % wildcards, where _ * ? and [ are literal', async () => {
    await store.appendEvents([
      event({ id: '1', source: 'https://x.no/ttd/app_1/instances/1' }),
      event({ id: '2', source: 'https://x.no/ttd/appX1/instances/2' }),
      event({ id: '3', source: 'https://x.no/ttd/a*[?]b/3' }),
      event({ id: '4', source: 'https://X.NO/ttd/app_1/instances/4' }),
    ]);
    const read = (source: string) =>
      store.readEvents({ afterSeq: 0, limit: 10, source: parseSourceFilter(source) }).then(ids);
    expect(await read('https://x.no/ttd/app_1/instances/1')).toEqual(['1']);
    expect(await read('https://x.no/ttd/app_1')).toEqual(['1']);
    expect(await read('https://x.no/ttd/app_')).toEqual([]);
    expect(await read('https://x.no/ttd/')).toEqual(['1', '2', '3']);
    expect(await read('https://x.no/ttd/app_1/%')).toEqual(['1']);
    expect(await read('https://x.no/%')).toEqual(['1', '2', '3']);
    expect(await read('%/instances/%')).toEqual(['1', '2', '4']);
    expect(await read('https://x.no/ttd/a*[?]b/%')).toEqual(['3']);
    expect(await read('https://x.no/ttd/a%b/3')).toEqual(['3']);
  });

  it('finds the position of an event by id, within a source when given, else the earliest', async () => {
    await store.appendEvents([
      event({ id: 'same', source: 'urn:a' }),
      event({ id: 'other' }),
      event({ id: 'same', source: 'urn:b' }),
    ]);
    const rows = await store.readEvents({ afterSeq: 0, limit: 10 });
    expect(await store.findEventPosition('same')).toBe(rows[0]!.seq);
    expect(await store.findEventPosition('same', 'urn:b')).toBe(rows[2]!.seq);
    expect(await store.findEventPosition('missing')).toBeUndefined();
    expect(await store.findEventPosition('same', 'urn:c')).toBeUndefined();
  });

  it('reports the head position: 0 when empty, then the newest seq', async () => {
    expect(await store.headPosition()).toBe(0);
    await store.appendEvents([event(), event()]);
    const rows = await store.readEvents({ afterSeq: 0, limit: 10 });
    expect(await store.headPosition()).toBe(rows.at(-1)!.seq);
  });

  it('keeps everything committed across a close and reopen, and migrating again changes nothing', async () => {
    await store.appendEvents([event({ id: 'durable' })]);
    await store.close();
    const reopened = await db.open();
    expect(ids(await reopened.readEvents({ afterSeq: 0, limit: 10 }))).toEqual(['durable']);
    await reopened.ping();
  });
});
