import { compileSyntax } from './compiler.js';
import type { CesqlError, CesqlParseError } from './errors.js';
import { type CesqlEvent, type CesqlValue, EvaluationContext, missing } from './evaluation-context.js';
import { cesqlLimits } from './limits.js';
import { parse, SyntaxFault } from './parser.js';
import type { CesqlType } from './values.js';

export type { CesqlError, CesqlErrorKind, CesqlParseError } from './errors.js';
export { cesqlErrorKinds } from './errors.js';
export type { CesqlEvent, CesqlValue } from './evaluation-context.js';
export { cesqlLimits } from './limits.js';
export type { CesqlType } from './values.js';

/** What evaluating an expression on one event gives: a value, always, and the errors met on the way. */
export interface CesqlEvaluation {
  readonly result: CesqlValue;
  readonly errors: readonly CesqlError[];
}

/** An expression compiled once, to evaluate on any number of events. */
export interface CesqlExpression {
  readonly text: string;
  /** The type of the result, when the expression says it (a bare attribute does not). */
  readonly resultType: CesqlType | undefined;
  evaluate(event: CesqlEvent): CesqlEvaluation;
  /** `isMatch(evaluate(event))`, without building the evaluation: the filter rule, for matching many events. */
  matches(event: CesqlEvent): boolean;
}

/**
 * The filter rule (CESQL §1.2): an event passes only if the expression evaluated to `true` with no error.
 * @example isMatch({ result: true, errors: [] }) // true
 */
export function isMatch(evaluation: CesqlEvaluation): boolean {
  return evaluation.result === true && evaluation.errors.length === 0;
}

export type CesqlCompilation =
  | { readonly ok: true; readonly expression: CesqlExpression }
  | { readonly ok: false; readonly error: CesqlParseError };

/**
 * Parses and compiles a CESQL 1.0 expression. Over-long or over-nested expressions are refused like syntax
 * errors (limits.ts); every refusal says where and what was expected.
 * @example
 * const compiled = compileCesql("type LIKE 'no.altinn.%' AND EXISTS subject");
 * if (compiled.ok) compiled.expression.matches(event);
 */
export function compileCesql(text: string): CesqlCompilation {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > cesqlLimits.expressionBytes) {
    return refuse(text, cesqlLimits.expressionBytes, `The expression is ${bytes} bytes of UTF-8; at most ${cesqlLimits.expressionBytes} are allowed.`);
  }
  let compiled: ReturnType<typeof compileSyntax>;
  try {
    compiled = compileSyntax(parse(text));
  } catch (error) {
    if (error instanceof SyntaxFault) return refuse(text, error.at, error.message);
    throw error;
  }
  const { evaluate, type } = compiled;
  return {
    ok: true,
    expression: {
      text,
      resultType: type,
      evaluate(event) {
        const context = new EvaluationContext();
        const value = evaluate(event, context);
        // A bare missing attribute: a type cannot be told, so it is a Boolean (§3.2).
        return { result: value === missing ? false : value, errors: context.errors ?? [] };
      },
      matches(event) {
        const context = new EvaluationContext();
        return evaluate(event, context) === true && context.errors === undefined;
      },
    },
  };
}

/** A parse error at a UTF-16 index of the text, located in characters, lines and columns. */
function refuse(text: string, index: number, message: string): CesqlCompilation {
  const before = Array.from(text.slice(0, Math.min(index, text.length)));
  const lineStart = before.lastIndexOf('\n') + 1;
  return {
    ok: false,
    error: {
      kind: 'parse',
      message,
      offset: before.length,
      line: before.filter((c) => c === '\n').length + 1,
      column: before.length - lineStart + 1,
    },
  };
}
