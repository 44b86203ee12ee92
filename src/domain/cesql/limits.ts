/**
 * What one expression may cost, so that a subscription's owner cannot make evaluating it expensive for the
 * broker (docs/filters.md#limits-of-an-expression). Expressions over the first two are refused as parse errors; the last two
 * bound each evaluation.
 */
export const cesqlLimits = {
  /** Bytes of UTF-8: room for any real filter, and a bound on the size of the compiled tree. */
  expressionBytes: 4096,
  /** Parentheses, function calls, IN sets and unary operators nested in one another. */
  nestingDepth: 32,
  /**
   * The longest string a function may build, in characters: four attributes at their limit. Longer is a
   * functionEvaluation error and the empty string.
   */
  builtString: 16_384,
  /**
   * Characters one evaluation may examine or build: each string a function takes or builds, each string a
   * comparison, a cast or LIKE reads, counts its length (a LIKE piece holding `_`: the value's length times the
   * piece's 32-character words). Any real filter stays far below (a 4 KiB attribute read 30 times); past it, the
   * step that would go on gives its zero value with one generic error. Without it, an expression that reads a
   * 4 KiB attribute in every one of its 4,096 bytes would cost milliseconds per event.
   */
  workPerEvaluation: 131_072,
} as const;
