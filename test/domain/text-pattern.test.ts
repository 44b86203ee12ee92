import { describe, expect, it } from 'vitest';
import { matchesTextPattern, parseTextPattern } from '../../src/domain/text-pattern.js';

const matches = (pattern: string, value: string) => matchesTextPattern(parseTextPattern(pattern), value);

describe('parseTextPattern', () => {
  it('reads a value without % as an exact match', () => {
    expect(parseTextPattern('https://x.no/a_b*c')).toEqual({ kind: 'exact', value: 'https://x.no/a_b*c' });
  });

  it('splits a value at every % into the literal parts between wildcards', () => {
    expect(parseTextPattern('https://x/%/instances/%')).toEqual({
      kind: 'wildcard',
      parts: ['https://x/', '/instances/', ''],
    });
  });
});

describe('matchesTextPattern', () => {
  it('matches an exact pattern only to the same text, case-sensitively', () => {
    expect(matches('https://x.no/app', 'https://x.no/app')).toBe(true);
    expect(matches('https://x.no/app', 'https://x.no/app/1')).toBe(false);
    expect(matches('https://x.no/app', 'https://X.no/app')).toBe(false);
  });

  it.each([
    ['https://x.no/%/instances', 'https://x.no/ttd/instances', true],
    ['https://x.no/%/instances', 'https://x.no/a/b/c/instances', true],
    ['https://x.no/%/instances', 'https://x.no//instances', true],
    ['https://x.no/%/instances', 'https://x.no/ttd/instances/1', false],
    ['https://x.no/app%', 'https://x.no/app', true],
    ['https://x.no/app%', 'https://x.no/app/instances/1', true],
    ['https://x.no/app%', 'https://x.no/ap', false],
    ['%.created', 'no.altinn.thing.created', true],
    ['%.created', 'no.altinn.thing.deleted', false],
    ['%', '', true],
    ['%', 'anything at all', true],
    ['a%b%c', 'abc', true],
    ['a%b%c', 'a-b-b-c', true],
    ['a%b%c', 'acbc', true],
    ['a%b%c', 'ac', false],
    ['a%b%c', 'abcd', false],
    ['a%%b', 'ab', true],
    ['ab%ba', 'aba', false],
    ['ab%ba', 'abba', true],
  ])("matches '%s' against '%s': %s", (pattern, value, expected) => {
    expect(matches(pattern, value)).toBe(expected);
  });

  it.each([
    ['_ in an exact pattern', 'a_c', 'abc'],
    ['_ in a wildcard pattern', 'a_c%', 'abcd'],
    ['* in an exact pattern', 'a*', 'abc'],
    ['* in a wildcard pattern', '%a*', 'xabc'],
    ['? in a wildcard pattern', 'a?%', 'ab'],
  ])('takes %s literally, never as a wildcard', (_label, pattern, value) => {
    expect(matches(pattern, value)).toBe(false);
  });

  it('matches _ and * in a pattern to themselves', () => {
    expect(matches('https://x.no/my_app/*%', 'https://x.no/my_app/*/1')).toBe(true);
  });
});
