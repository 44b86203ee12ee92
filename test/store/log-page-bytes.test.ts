import { describe, expect, it } from 'vitest';
import { pageFromEvents, pageFromRow, selectedBody } from '../../src/store/log-page-bytes.js';

const payloads = ['{"id":"a","data":"ø€😀"}', '{"id":"b"}', '{"id":"c","data":[1, 2]}'];
const page = pageFromRow({
  through: 12,
  body: Buffer.from(`[${payloads.join(',')}]`),
  seqs: '3,5,9',
  sizes: payloads.map((p) => Buffer.byteLength(p)).join(','),
});

describe('A page as the bytes of its answer', () => {
  it('knows each payload’s position and where its bytes end, multi-byte characters and all', () => {
    expect(page.seqs).toEqual([3, 5, 9]);
    expect(page.examinedThrough).toBe(12);
    const body = Buffer.from(page.body);
    expect(page.ends.map((end, i) => body.subarray(end - Buffer.byteLength(payloads[i]!), end).toString())).toEqual(payloads);
  });

  it('sends the array as it is when every event is shown, and a new array of those shown otherwise', () => {
    expect(selectedBody(page, () => true).toString()).toBe(`[${payloads.join(',')}]`);
    expect(selectedBody(page, (i) => i !== 1).toString()).toBe(`[${payloads[0]},${payloads[2]}]`);
    expect(selectedBody(page, (i) => i === 1).toString()).toBe(`[${payloads[1]}]`);
    expect(selectedBody(page, () => false).toString()).toBe('[]');
  });

  it('is an empty array for an empty page', () => {
    const empty = pageFromRow({ through: null, body: Buffer.from('[]'), seqs: null, sizes: null });
    expect(empty).toMatchObject({ seqs: [], ends: [], examinedThrough: undefined });
    expect(selectedBody(empty, () => true).toString()).toBe('[]');
  });
});

describe('A page made from its rows', () => {
  it('is the same bytes as the page the database joins', () => {
    const fromRows = pageFromEvents({ events: payloads.map((payload, i) => ({ seq: [3, 5, 9][i]!, payload })), examinedThrough: 12 });
    expect(Buffer.from(fromRows.body).equals(Buffer.from(page.body))).toBe(true);
    expect(fromRows).toMatchObject({ seqs: page.seqs, ends: page.ends, examinedThrough: 12 });
    expect(Buffer.from(pageFromEvents({ events: [], examinedThrough: undefined }).body).toString()).toBe('[]');
  });
});
