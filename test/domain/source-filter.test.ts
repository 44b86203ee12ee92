import { describe, expect, it } from 'vitest';
import { matchesSourceFilter, parseSourceFilter } from '../../src/domain/source-filter.js';

const matches = (filter: string, source: string) => matchesSourceFilter(parseSourceFilter(filter), source);

describe('parseSourceFilter', () => {
  it('reads a URI without % as that URI and everything below it', () => {
    expect(parseSourceFilter('https://x/ttd/app')).toEqual({
      kind: 'tree',
      uri: 'https://x/ttd/app',
      below: 'https://x/ttd/app/',
    });
  });

  it('does not double the slash of a URI that already ends in one', () => {
    expect(parseSourceFilter('https://x/ttd/')).toEqual({
      kind: 'tree',
      uri: 'https://x/ttd/',
      below: 'https://x/ttd/',
    });
  });

  it('reads a value with % as a wildcard pattern', () => {
    expect(parseSourceFilter('https://x/%/app')).toEqual({ kind: 'wildcard', parts: ['https://x/', '/app'] });
  });
});

describe('matchesSourceFilter', () => {
  it.each([
    ['https://x/ttd/app', 'https://x/ttd/app', true],
    ['https://x/ttd/app', 'https://x/ttd/app/instances/1', true],
    ['https://x/ttd/app', 'https://x/ttd/apple', false],
    ['https://x/ttd/app', 'https://x/ttd', false],
    ['https://x/ttd/', 'https://x/ttd/app', true],
    ['https://x/%/app', 'https://x/ttd/app', true],
    ['https://x/%/app', 'https://x/ttd/app/instances/1', false],
    ['https://x/my_app', 'https://x/myXapp', false],
  ])("matches filter '%s' against source '%s': %s", (filter, source, expected) => {
    expect(matches(filter, source)).toBe(expected);
  });
});
