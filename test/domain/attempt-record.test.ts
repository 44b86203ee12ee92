import { describe, expect, it } from 'vitest';
import { attemptLimits, keptBody, keptHeaders } from '../../src/domain/attempt-record.js';
import { recordOfAttempt } from '../../src/domain/delivery-attempt.js';

describe('keptHeaders', () => {
  it('keeps names in lower case and joins repeated headers', () => {
    expect(keptHeaders({ 'Content-Type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], gone: undefined })).toEqual({
      'content-type': 'text/plain',
      'set-cookie': 'a=1, b=2',
    });
  });

  it(`keeps at most ${attemptLimits.headers} headers`, () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`x-h${i}`, 'v']));
    expect(Object.keys(keptHeaders(many))).toHaveLength(attemptLimits.headers);
  });

  it(`cuts one header to ${attemptLimits.headerBytes} bytes, never inside a character, and all to ${attemptLimits.headersBytes}`, () => {
    const cut = keptHeaders({ 'x-long': 'é'.repeat(1000) });
    expect(new TextEncoder().encode(`x-long${cut['x-long']}`).length).toBeLessThanOrEqual(attemptLimits.headerBytes);
    expect(cut['x-long']).toMatch(/^é+$/);
    const wide = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x-w${i}`, 'v'.repeat(400)]));
    const kept = keptHeaders(wide);
    const bytes = Object.entries(kept).reduce((sum, [k, v]) => sum + k.length + v.length, 0);
    expect(bytes).toBeLessThanOrEqual(attemptLimits.headersBytes);
    expect(Object.keys(kept).length).toBeLessThan(30);
  });

  it('replaces NUL, which the database cannot store as text', () => {
    expect(keptHeaders({ 'x-nul': 'a\u0000b' })).toEqual({ 'x-nul': 'a\uFFFDb' });
  });
});

describe('keptBody', () => {
  it(`keeps the first ${attemptLimits.bodyBytes} bytes as text`, () => {
    expect(keptBody(Buffer.from('x'.repeat(10_000)))).toBe('x'.repeat(attemptLimits.bodyBytes));
    expect(keptBody(Buffer.from('{"ok":true}'))).toBe('{"ok":true}');
  });

  it('leaves out a character cut at the limit, and shows other bytes that are not UTF-8 as U+FFFD', () => {
    const body = Buffer.concat([Buffer.from('x'.repeat(attemptLimits.bodyBytes - 1)), Buffer.from('é')]);
    expect(keptBody(body)).toBe('x'.repeat(attemptLimits.bodyBytes - 1));
    expect(keptBody(Buffer.from([0x61, 0xff, 0x62, 0x00]))).toBe('a\uFFFDb\uFFFD');
  });
});

describe('recordOfAttempt', () => {
  it('keeps an answer with its status, headers and body, and a failure with its kind', () => {
    expect(recordOfAttempt({ kind: 'answered', statusCode: 500, durationMs: 12.6, headers: { a: 'b' }, body: 'no', bodyTruncated: false }, 1000)).toEqual({
      startedAt: 1000,
      durationMs: 13,
      answer: { statusCode: 500, headers: { a: 'b' }, body: 'no', bodyTruncated: false },
    });
    expect(recordOfAttempt({ kind: 'failed', error: 'No answer within 5 ms.', errorKind: 'timeout', durationMs: 5 }, 1000)).toEqual({
      startedAt: 1000,
      durationMs: 5,
      errorKind: 'timeout',
      error: 'No answer within 5 ms.',
    });
  });
});
