import type { LogPageRow } from './log-page-sql.js';
import type { LogPage, LogPageBytes } from './store.js';

/**
 * The page from its rows: the JSON array an answer sends, `[p1,p2,…]` in UTF-8, each payload copied as stored.
 * The bytes have an ArrayBuffer of their own, so a thread can hand them over without copying.
 * @example pageFromEvents({ events: [{ seq: 7, payload: '{"id":"a"}' }], examinedThrough: undefined }).ends // [11]
 */
export function pageFromEvents({ events, examinedThrough }: LogPage): LogPageBytes {
  const payloadBytes = events.reduce((sum, event) => sum + Buffer.byteLength(event.payload), 0);
  const body = Buffer.allocUnsafeSlow(payloadBytes + Math.max(events.length - 1, 0) + 2);
  const ends: number[] = [];
  let at = 0;
  body[at++] = 0x5b;
  events.forEach((event, i) => {
    if (i > 0) body[at++] = 0x2c;
    at += body.write(event.payload, at);
    ends.push(at);
  });
  body[at] = 0x5d;
  return { body, seqs: events.map((event) => event.seq), ends, examinedThrough };
}

/**
 * The page from the row of `buildLogPageText`: its JSON array as bytes, and where each payload ends in them.
 * @example pageFromRow({ through: null, body: Buffer.from('[{"id":"a"}]'), seqs: '7', sizes: '10' }).ends // [11]
 */
export function pageFromRow(row: LogPageRow<Uint8Array>): LogPageBytes {
  const seqs = row.seqs === null ? [] : row.seqs.split(',').map(Number);
  const sizes = row.sizes === null ? [] : row.sizes.split(',').map(Number);
  const ends: number[] = [];
  let at = 0;
  for (const size of sizes) {
    at += 1 + size;
    ends.push(at);
  }
  return { body: row.body, seqs, ends, examinedThrough: row.through ?? undefined };
}

/**
 * The JSON array of the page's events that `keep` keeps: the page's own bytes when it keeps them all, else a
 * new array of the kept ones' payloads.
 */
export function selectedBody(page: LogPageBytes, keep: (index: number) => boolean): Buffer {
  const all = Buffer.from(page.body.buffer, page.body.byteOffset, page.body.byteLength);
  const kept = page.seqs.map((_, i) => i).filter(keep);
  if (kept.length === page.seqs.length) return all;
  const parts: Buffer[] = [Buffer.from('[')];
  kept.forEach((i, n) => {
    if (n > 0) parts.push(Buffer.from(','));
    parts.push(all.subarray(i === 0 ? 1 : (page.ends[i - 1] ?? 0) + 1, page.ends[i]));
  });
  parts.push(Buffer.from(']'));
  return Buffer.concat(parts);
}
