import { describe, expect, it } from 'vitest';
import {
  decodesToUtf8,
  hasLoneSurrogate,
  isAscii,
  loneSurrogatePath,
  mayHoldLoneSurrogate,
  parametersNotUtf8,
} from '../../src/domain/unicode-text.js';

describe('hasLoneSurrogate', () => {
  it.each(['\ud800', '\udbff', '\udc00', 'a\udfffb', '😀'.slice(0, 1), '😀'.slice(1)])('finds the unpaired surrogate in %j', (text) => {
    expect(hasLoneSurrogate(text)).toBe(true);
  });

  it.each(['', 'plain', '\ufffd', 'é𝄞😀', '\ud83d\ude00'])('accepts the well-formed %j', (text) => {
    expect(hasLoneSurrogate(text)).toBe(false);
  });
});

describe('loneSurrogatePath', () => {
  it('names where in a JSON value the first unpaired surrogate is, in a string or a key', () => {
    expect(loneSurrogatePath('\ud800')).toBe('');
    expect(loneSurrogatePath({ a: { b: ['ok', 'x\udc00'] } })).toBe('a.b[1]');
    expect(loneSurrogatePath({ a: { '\udbff': 1 } })).toBe('a.\udbff');
    expect(loneSurrogatePath({ a: ['😀', { b: 'é' }], n: 1, t: true, z: null })).toBeUndefined();
  });

  it('walks hostile nesting without overflowing the stack', () => {
    let deep: unknown = '\ud800';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(loneSurrogatePath(deep)).toMatch(/^(\[0\]){100000}$/);
  });
});

describe('mayHoldLoneSurrogate', () => {
  it('finds every unpaired surrogate JSON.stringify wrote, in strings and keys at any depth', () => {
    for (const value of ['\ud800', { a: ['\udc00'] }, { '\udbff': 1 }]) {
      expect(mayHoldLoneSurrogate(JSON.stringify(value))).toBe(true);
    }
  });

  it('passes well-formed text, which JSON.stringify writes without a surrogate escape', () => {
    expect(mayHoldLoneSurrogate(JSON.stringify({ '😀': 'é𝄞\u0001' }))).toBe(false);
  });
});

describe('query strings', () => {
  it.each(['', 'abc', '%C3%A9', 'https://x/%', '100%', '%zz', '%25C3', '%2F%41', 'a+b'])('decodes %j to UTF-8', (component) => {
    expect(decodesToUtf8(component)).toBe(true);
  });

  it.each(['%E9', '%FF', '%C3', '%ED%A0%80', '%C3%A9%C3', 'Ã©'])('refuses %j, which does not decode to UTF-8', (component) => {
    expect(decodesToUtf8(component)).toBe(false);
  });

  it('names each parameter whose name or value does not decode to UTF-8', () => {
    expect(parametersNotUtf8('after=0&subject=%FF&type=a&type=%C3&source=https://x/%')).toEqual(['subject', 'type']);
    expect(parametersNotUtf8('after=0&resource=urn:x:y&subject=%2Fparty%2F%C3%A9')).toEqual([]);
    expect(parametersNotUtf8('')).toEqual([]);
  });

  it('tells ASCII apart', () => {
    expect(isAscii('/person/16069412345')).toBe(true);
    expect(isAscii('Ã©')).toBe(false);
  });
});
