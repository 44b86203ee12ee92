/**
 * The error kinds of CESQL 1.0 (§3.3), named as the conformance cases (the TCK) name them. Evaluation never
 * stops at one: an operator or function that errs gives its return type's zero value, and the error joins the
 * list returned with the result (docs/filters.md#errors).
 */
export const cesqlErrorKinds = [
  'parse',
  'math',
  'cast',
  'missingFunction',
  'functionEvaluation',
  'missingAttribute',
  'generic',
] as const;

export type CesqlErrorKind = (typeof cesqlErrorKinds)[number];

/** One error met while evaluating an expression. */
export interface CesqlError {
  readonly kind: Exclude<CesqlErrorKind, 'parse'>;
  readonly message: string;
}

/** Why an expression does not compile, and where: the expression is refused before any event meets it. */
export interface CesqlParseError {
  readonly kind: 'parse';
  /** Says what was expected and what was found. */
  readonly message: string;
  /** Characters (Unicode code points) before the fault, from 0. */
  readonly offset: number;
  /** From 1. */
  readonly line: number;
  /** From 1, in characters. */
  readonly column: number;
}
