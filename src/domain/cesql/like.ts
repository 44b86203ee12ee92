import type { EvaluationContext } from './evaluation-context.js';

/**
 * LIKE patterns (§3.4.3): `%` is any run of characters, `_` one character, `\%` and `\_` (and `\\`) the
 * character itself. Compiled once per expression into a matcher that takes time linear in the value (times
 * the pattern's length over 32 where `_` is used), never backtracking: the pattern comes from a subscription
 * owner, and a regular expression built from it could take exponential time on a chosen event. What a match
 * reads is charged to the evaluation's work budget (limits.ts) before it is read.
 *
 * The pattern is cut at its `%`s into segments. The first must match at the start, the last at the end, and
 * each one between at its leftmost place after the one before: taking the leftmost place never loses a match,
 * since it leaves the most room to the segments that follow.
 */

/** `_` in a segment: any one character (a Unicode code point). */
const anyCharacter = -1;

type Segment = readonly number[];

export type LikeMatcher = (value: string, context: EvaluationContext) => boolean;

/**
 * A value's characters: the string itself, read by code unit, when it holds no surrogate pair (then units and
 * code points are one), else its code points.
 */
type Characters = string | readonly number[];

const surrogate = /[\uD800-\uDFFF]/;

function charactersOf(value: string): Characters {
  return surrogate.test(value) ? Array.from(value, (c) => c.codePointAt(0) as number) : value;
}

function characterAt(characters: Characters, i: number): number | undefined {
  return typeof characters === 'string' ? (i < characters.length ? characters.charCodeAt(i) : undefined) : characters[i];
}

/** @example compileLike('a\\_b%')('a_bcd', new EvaluationContext()) // true */
export function compileLike(pattern: string): LikeMatcher {
  const segments = segmentsOf(pattern);
  if (segments.every((segment) => !segment.includes(anyCharacter))) {
    return literalMatcher(segments.map((segment) => String.fromCodePoint(...segment)));
  }
  const searchers = segments.map(searcherOf);
  const [first, ...rest] = segments as [Segment, ...Segment[]];
  const last = rest.pop();
  const middle = searchers.slice(1, -1);
  return (value, context) => {
    if (!context.charge(value.length)) return false;
    const characters = charactersOf(value);
    if (last === undefined) return characters.length === first.length && matchesAt(first, characters, 0);
    const end = characters.length - last.length;
    if (end < first.length || !matchesAt(first, characters, 0) || !matchesAt(last, characters, end)) return false;
    let from = first.length;
    for (const search of middle) {
      const found = search(characters, from, end, context);
      if (found < 0) return false;
      from = found;
    }
    return true;
  };
}

/** The pattern's segments between its `%`s, as code points with `_` as anyCharacter. */
function segmentsOf(pattern: string): Segment[] {
  const characters = Array.from(pattern, (c) => c.codePointAt(0) as number);
  const segments: number[][] = [[]];
  const backslash = 0x5c;
  for (let i = 0; i < characters.length; i += 1) {
    const c = characters[i] as number;
    const current = segments.at(-1) as number[];
    if (c === backslash) {
      const next = characters[i + 1];
      // `\%`, `\_` and `\\` are the character itself; any other backslash is a backslash.
      if (next === 0x25 || next === 0x5f || next === backslash) {
        current.push(next);
        i += 1;
      } else {
        current.push(c);
      }
    } else if (c === 0x25) {
      // `%%` is one `%`: an empty segment between them would change nothing.
      if (current.length > 0 || segments.length === 1) segments.push([]);
    } else {
      current.push(c === 0x5f ? anyCharacter : c);
    }
  }
  return segments;
}

/** Patterns without `_`: the string's own searches, which are linear and work on UTF-16 as well as on code points. */
function literalMatcher(segments: readonly string[]): LikeMatcher {
  const [first, ...rest] = segments as [string, ...string[]];
  const last = rest.pop();
  if (last === undefined) return (value, context) => context.charge(Math.min(value.length, first.length)) && value === first;
  const middle = rest;
  const fixed = first.length + last.length;
  // A prefix or suffix pattern reads only its ends; one with pieces between searches the whole value.
  const examines = (value: string) => (middle.length === 0 ? fixed : value.length);
  return (value, context) => {
    if (value.length < fixed || !context.charge(examines(value))) return false;
    if (!value.startsWith(first) || !value.endsWith(last)) return false;
    const end = value.length - last.length;
    let from = first.length;
    for (const segment of middle) {
      const found = value.indexOf(segment, from);
      if (found < 0 || found + segment.length > end) return false;
      from = found + segment.length;
    }
    return true;
  };
}

function matchesAt(segment: Segment, characters: Characters, at: number): boolean {
  for (let i = 0; i < segment.length; i += 1) {
    const expected = segment[i] as number;
    if (expected !== anyCharacter && characterAt(characters, at + i) !== expected) return false;
  }
  return true;
}

/**
 * Finds a segment's leftmost occurrence in characters[from, end) and answers where it ends, or -1. Shift-and
 * (bit-parallel) search: one bit per segment position, so each character costs one pass over k/32 words,
 * whatever the text and the pattern hold.
 */
type Search = (characters: Characters, from: number, end: number, context: EvaluationContext) => number;

function searcherOf(segment: Segment): Search {
  const k = segment.length;
  if (k === 0) return (_characters, from) => from;
  const words = Math.ceil(k / 32);
  const wildcards = new Uint32Array(words);
  segment.forEach((c, i) => {
    if (c === anyCharacter) wildcards[i >>> 5] = ((wildcards[i >>> 5] as number) | (1 << (i & 31))) >>> 0;
  });
  const masks = new Map<number, Uint32Array>();
  segment.forEach((c, i) => {
    if (c === anyCharacter) return;
    let mask = masks.get(c);
    if (!mask) masks.set(c, (mask = Uint32Array.from(wildcards)));
    mask[i >>> 5] = ((mask[i >>> 5] as number) | (1 << (i & 31))) >>> 0;
  });
  const lastWord = (k - 1) >>> 5;
  const lastBit = 1 << ((k - 1) & 31);
  return (characters, from, end, context) => {
    // Charged before the scan, at its most: what a pattern costs on an event is known before it is paid.
    if (!context.charge((end - from) * words)) return -1;
    const state = new Uint32Array(words);
    for (let i = from; i < end; i += 1) {
      const mask = masks.get(characterAt(characters, i) as number) ?? wildcards;
      let carry = 1;
      for (let w = 0; w < words; w += 1) {
        const word = state[w] as number;
        state[w] = ((word << 1) | carry) & (mask[w] as number);
        carry = word >>> 31;
      }
      if (((state[lastWord] as number) & lastBit) !== 0) return i + 1;
    }
    return -1;
  };
}
