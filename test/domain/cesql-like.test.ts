import { describe, expect, it } from 'vitest';
import { EvaluationContext } from '../../src/domain/cesql/evaluation-context.js';
import { cesqlLimits } from '../../src/domain/cesql/limits.js';
import { compileLike as compileMatcher } from '../../src/domain/cesql/like.js';
import { seededRandom } from '../support/random.js';

/**
 * A plain dynamic-programming matcher, slow but obviously right, to check the compiled one against:
 * `%` any run, `_` one code point, a backslash before `%`, `_` or itself the character, any other backslash itself.
 */
function referenceLike(pattern: string, value: string): boolean {
  const tokens: { any?: 'one' | 'run'; char?: string }[] = [];
  const p = Array.from(pattern);
  for (let i = 0; i < p.length; i += 1) {
    const c = p[i] as string;
    if (c === '\\' && ['%', '_', '\\'].includes(p[i + 1] ?? '')) tokens.push({ char: p[++i] as string });
    else if (c === '%') tokens.push({ any: 'run' });
    else if (c === '_') tokens.push({ any: 'one' });
    else tokens.push({ char: c });
  }
  const v = Array.from(value);
  // can[i][j]: tokens from i match value from j.
  const can = Array.from({ length: tokens.length + 1 }, () => new Array<boolean>(v.length + 1).fill(false));
  (can[tokens.length] as boolean[])[v.length] = true;
  for (let i = tokens.length - 1; i >= 0; i -= 1) {
    for (let j = v.length; j >= 0; j -= 1) {
      const token = tokens[i] as { any?: string; char?: string };
      const row = can[i] as boolean[];
      const next = can[i + 1] as boolean[];
      if (token.any === 'run') row[j] = (next[j] as boolean) || (j < v.length && (row[j + 1] as boolean));
      else row[j] = j < v.length && (token.any === 'one' || token.char === v[j]) && (next[j + 1] as boolean);
    }
  }
  return (can[0] as boolean[])[0] as boolean;
}

/** A matcher with a fresh evaluation's budget for each value. */
const compileLike = (pattern: string) => {
  const matcher = compileMatcher(pattern);
  return (value: string) => matcher(value, new EvaluationContext());
};

describe('LIKE patterns', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['a%', 'a', true],
    ['%a', 'ba', true],
    ['%', '', true],
    ['_', '', false],
    ['a_c', 'a😀c', true],
    ['a__c', 'a😀c', false],
    ['%😀%', 'x😀y', true],
    ['a\\%', 'a%', true],
    ['a\\%', 'ab', false],
    ['a\\_', 'a_', true],
    ['a\\\\b', 'a\\b', true],
    ['a\\b', 'a\\b', true],
    ['end\\', 'end\\', true],
    ['%%a%%', 'xay', true],
    ['a%b%c', 'ac', false],
    ['ab%ba', 'aba', false],
    ['_%_', 'ab', true],
    ['_%_', 'a', false],
  ])('%j matches %j: %s', (pattern, value, expected) => {
    expect(compileLike(pattern)(value)).toBe(expected);
    expect(referenceLike(pattern, value)).toBe(expected);
  });

  it('agrees with a reference matcher on 5,000 random patterns and values', () => {
    const random = seededRandom(15);
    const alphabet = ['a', 'b', '😀', '%', '_', '\\'];
    const word = (max: number) =>
      Array.from({ length: Math.floor(random.next() * max) }, () => random.pick(alphabet)).join('');
    for (let i = 0; i < 5_000; i += 1) {
      const pattern = word(8);
      const value = word(10).replace(/[%_\\]/g, () => random.pick(['a', 'b', '%', '_', '\\']));
      expect(compileLike(pattern)(value), `${JSON.stringify(pattern)} on ${JSON.stringify(value)}`).toBe(
        referenceLike(pattern, value),
      );
    }
  });

  it('answers patterns that make backtracking matchers explode, on values as long as an attribute, correctly', () => {
    // A regular expression like /^(a*)*b$/ or a backtracking wildcard matcher takes exponential or quadratic-
    // times-pattern time here; the segment search takes one pass per segment.
    const value = 'a'.repeat(4096);
    expect(compileLike('%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%b')(value)).toBe(false);
    expect(compileLike(`%${'a_'.repeat(200)}b%`)(value)).toBe(false);
    expect(compileLike(`%${'a_'.repeat(200)}a%`)(value)).toBe(true);
    expect(compileLike(`%${'_'.repeat(500)}%`)(value)).toBe(true);
    expect(compileLike(`${'%a'.repeat(2000)}`)(value)).toBe(true);
  });

  it(`charges what it reads to the evaluation's budget of ${cesqlLimits.workPerEvaluation} characters`, () => {
    const matcher = compileMatcher(`%${'a_'.repeat(100)}b%`);
    const context = new EvaluationContext();
    // A 4,096-character value against a 201-character piece (7 words): 4,096 + 28,672 = 32,768 characters each.
    const value = 'a'.repeat(4096);
    for (let i = 0; i < cesqlLimits.workPerEvaluation / 32_768; i += 1) expect(matcher(value, context)).toBe(false);
    expect(context.errors).toBeUndefined();
    expect(matcher(value, context)).toBe(false);
    expect(context.errors?.map((e) => e.kind)).toEqual(['generic']);
    // A fresh evaluation has its whole budget again, and a match is found.
    expect(matcher(`${'a'.repeat(200)}b`, new EvaluationContext())).toBe(true);
  });
});
