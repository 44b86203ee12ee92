import type { LogPageBytes, LoggedEvent } from './store.js';

const comma = 0x2c;

/**
 * A page's events as the JSON array an answer sends, `[p1,p2,…]` in UTF-8, with where each payload ends. Each
 * payload is stored JSON text, copied as it is. The bytes have an ArrayBuffer of their own, so a thread can hand
 * them over without copying.
 * @example logPageBytes([{ seq: 7, payload: '{"id":"a"}' }], undefined).ends // [11]
 */
export function logPageBytes(events: readonly LoggedEvent[], examinedThrough: number | undefined): LogPageBytes {
  const payloadBytes = events.reduce((sum, event) => sum + Buffer.byteLength(event.payload), 0);
  const body = Buffer.allocUnsafeSlow(payloadBytes + Math.max(events.length - 1, 0) + 2);
  const ends: number[] = [];
  let at = 0;
  body[at++] = 0x5b;
  events.forEach((event, i) => {
    if (i > 0) body[at++] = comma;
    at += body.write(event.payload, at);
    ends.push(at);
  });
  body[at] = 0x5d;
  return { body, seqs: events.map((event) => event.seq), ends, examinedThrough };
}

/** The page from the engine's pieces: the payloads joined by commas, and each one's length in bytes. */
export function joinedPageBytes(
  joined: string,
  seqs: readonly number[],
  sizes: readonly number[],
  examinedThrough: number | undefined,
): LogPageBytes {
  const body = Buffer.from(`[${joined}]`);
  const ends: number[] = [];
  let at = 1;
  sizes.forEach((size, i) => {
    at += (i > 0 ? 1 : 0) + size;
    ends.push(at);
  });
  return { body, seqs, ends, examinedThrough };
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
