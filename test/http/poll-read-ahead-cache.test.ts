import { describe, expect, it } from 'vitest';
import { PollReadAhead } from '../../src/http/poll-read-ahead.js';
import { pageFromRow } from '../../src/store/log-page-bytes.js';
import type { LogPageBytes, LogQuery } from '../../src/store/store.js';

const query: LogQuery = { afterSeq: 10, resource: 'urn:a:b', types: [], limit: 2, examineAtMost: 10_000 };
const full: LogPageBytes = pageFromRow({ through: null, body: Buffer.from('[{"id":"a"},{"id":"b"}]'), seqs: '11,12', sizes: '10,10' });
const partial: LogPageBytes = pageFromRow({ through: null, body: Buffer.from('[{"id":"a"}]'), seqs: '11', sizes: '10' });

describe('PollReadAhead', () => {
  it('hands a settled page to the same consumer and read, once', async () => {
    const ahead = new PollReadAhead();
    ahead.start('/org/a', query, async () => full);
    expect(await ahead.take('/org/a', { ...query })).toEqual(full);
    expect(await ahead.take('/org/a', query)).toBeUndefined();
  });

  it('never hands a page to another consumer, or for a read that differs in anything', async () => {
    const ahead = new PollReadAhead();
    const others: [string, LogQuery][] = [
      ['/org/b', query],
      ['/org/a', { ...query, afterSeq: 11 }],
      ['/org/a', { ...query, resource: 'urn:a:c' }],
      ['/org/a', { ...query, subject: '/party/1' }],
      ['/org/a', { ...query, alternativesubject: '/person/1' }],
      ['/org/a', { ...query, types: [{ kind: 'exact', value: 't' }] }],
      ['/org/a', { ...query, source: { kind: 'tree', uri: 'https://x/a', below: 'https://x/a/' } }],
      ['/org/a', { ...query, limit: 3 }],
      ['/org/a', { ...query, examineAtMost: 100 }],
    ];
    ahead.start('/org/a', query, async () => full);
    for (const [consumer, other] of others) expect(await ahead.take(consumer, other), JSON.stringify(other)).toBeUndefined();
    expect(await ahead.take('/org/a', query)).toEqual(full);
  });

  it('does not keep a page that reached the end of the log: an event published meanwhile belongs in it', async () => {
    const ahead = new PollReadAhead();
    ahead.start('/org/a', query, async () => partial);
    await ahead.idle();
    expect(ahead.size().pages).toBe(0);
    ahead.start('/org/a', query, async () => partial);
    // Taken while still being read, it is still not used.
    expect(await ahead.take('/org/a', query)).toBeUndefined();
  });

  it('keeps a page cut short by the bound, even an empty one', async () => {
    const ahead = new PollReadAhead();
    const bounded: LogPageBytes = pageFromRow({ through: 10_010, body: Buffer.from('[]'), seqs: null, sizes: null });
    ahead.start('/org/a', query, async () => bounded);
    expect(await ahead.take('/org/a', query)).toEqual(bounded);
  });

  it('answers nothing for a read that failed, so the poll reads for itself', async () => {
    const ahead = new PollReadAhead();
    ahead.start('/org/a', query, async () => {
      throw new Error('database gone');
    });
    expect(await ahead.take('/org/a', query)).toBeUndefined();
  });

  it('keeps at most its pages and bytes, dropping the oldest, and forgets pages not asked for in time', async () => {
    let now = 0;
    const ahead = new PollReadAhead({ pages: 2, bytes: 30, keepMs: 1_000 }, () => now);
    ahead.start('/org/a', query, async () => full);
    ahead.start('/org/b', query, async () => full);
    ahead.start('/org/c', query, async () => full);
    await ahead.idle();
    expect(ahead.size()).toEqual({ pages: 1, bytes: full.body.byteLength });
    expect(await ahead.take('/org/a', query)).toBeUndefined();
    expect(await ahead.take('/org/c', query)).toBeUndefined();
    expect(await ahead.take('/org/b', query)).toEqual(full);
    ahead.start('/org/a', query, async () => full);
    now = 1_001;
    expect(await ahead.take('/org/a', query)).toBeUndefined();
    expect(ahead.size()).toEqual({ pages: 0, bytes: 0 });
  });
});
