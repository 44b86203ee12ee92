import type { CesqlError } from './errors.js';

/** What an expression gives: CESQL's three primitive types (§3.1). Integers are 32-bit, never -0. */
export type CesqlValue = boolean | number | string;

/** The attributes of one CloudEvent, as its structured JSON form holds them (`data` is never read). */
export type CesqlEvent = Readonly<Record<string, unknown>>;

/**
 * What an attribute the event does not have evaluates to: no value, and a missingAttribute error. Like any
 * operand that erred, the operator or function that meets it answers its return type's zero value without
 * computing (§3.2), so `1 / missing` is not a division by zero, and `NOT missing` is false, not true.
 */
export const missing: unique symbol = Symbol('missing attribute');
export type Missing = typeof missing;

/** The errors of one evaluation, and how much string building it has spent (limits.ts). */
export class EvaluationContext {
  errors: CesqlError[] | undefined;
  /** How many errors so far: an operator compares it before and after its operands to tell whether one erred. */
  errorCount = 0;
  builtCharacters = 0;

  report(kind: CesqlError['kind'], message: string): void {
    (this.errors ??= []).push({ kind, message });
    this.errorCount += 1;
  }
}

/** One compiled node: cheap to call, no parsing and no lookups by name left. */
export type Evaluator = (event: CesqlEvent, context: EvaluationContext) => CesqlValue | Missing;
