import { describe, expect, it } from 'vitest';
import { joinedPageBytes, logPageBytes, selectedBody } from '../../src/store/log-page-bytes.js';

const events = [
  { seq: 3, payload: '{"id":"a","data":"ø€😀"}' },
  { seq: 5, payload: '{"id":"b"}' },
  { seq: 9, payload: '{"id":"c","data":[1, 2]}' },
];

describe('A page as the bytes of its answer', () => {
  it('is the JSON array of the payloads exactly as stored, whichever way the engine made it', () => {
    const expected = `[${events.map((e) => e.payload).join(',')}]`;
    const fromRows = logPageBytes(events, 12);
    const fromText = joinedPageBytes(events.map((e) => e.payload).join(','), [3, 5, 9], events.map((e) => Buffer.byteLength(e.payload)), 12);
    for (const page of [fromRows, fromText]) {
      expect(Buffer.from(page.body).toString()).toBe(expected);
      expect(page.seqs).toEqual([3, 5, 9]);
      expect(page.examinedThrough).toBe(12);
      expect(selectedBody(page, () => true).toString()).toBe(expected);
      expect(selectedBody(page, (i) => i !== 1).toString()).toBe(`[${events[0]!.payload},${events[2]!.payload}]`);
      expect(selectedBody(page, (i) => i === 1).toString()).toBe(`[${events[1]!.payload}]`);
      expect(selectedBody(page, () => false).toString()).toBe('[]');
    }
    expect(fromRows.ends).toEqual(fromText.ends);
  });

  it('is an empty array for an empty page', () => {
    expect(Buffer.from(logPageBytes([], undefined).body).toString()).toBe('[]');
    expect(Buffer.from(joinedPageBytes('', [], [], undefined).body).toString()).toBe('[]');
  });
});
