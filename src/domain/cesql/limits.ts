/**
 * What one expression may cost, so that a subscription's owner cannot make evaluating it expensive for the
 * broker (docs/filters.md#limits). Expressions over the first two are refused as parse errors; the last two
 * bound the strings functions build while evaluating.
 */
export const cesqlLimits = {
  /** Bytes of UTF-8: room for any real filter, and a bound on the size of the compiled tree. */
  expressionBytes: 4096,
  /** Parentheses, function calls, IN sets and unary operators nested in one another. */
  nestingDepth: 32,
  /**
   * The longest string a function may build, in characters: four attributes at their limit. Longer is a
   * functionEvaluation error and the empty string, so that LIKE never scans a huge value.
   */
  builtString: 16_384,
  /** Characters all functions together may build in one evaluation, beyond which each further one errs the same way. */
  builtStringsPerEvaluation: 262_144,
} as const;
