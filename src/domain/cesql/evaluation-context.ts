import type { CesqlError } from './errors.js';
import { cesqlLimits } from './limits.js';

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

/** The errors of one evaluation, and how much of its work budget it has spent (limits.ts). */
export class EvaluationContext {
  errors: CesqlError[] | undefined;
  /** How many errors so far: an operator compares it before and after its operands to tell whether one erred. */
  errorCount = 0;
  private work = 0;

  report(kind: CesqlError['kind'], message: string): void {
    (this.errors ??= []).push({ kind, message });
    this.errorCount += 1;
  }

  /**
   * Spends `characters` of the evaluation's work budget, before the work is done. False when the budget is
   * spent: the caller then gives its zero value. The error is reported once, at the step that ran out.
   */
  charge(characters: number): boolean {
    const spent = this.work;
    this.work = spent + characters;
    if (this.work <= cesqlLimits.workPerEvaluation) return true;
    if (spent <= cesqlLimits.workPerEvaluation) {
      this.report(
        'generic',
        `The expression examines more than ${cesqlLimits.workPerEvaluation} characters of this event in one ` +
          'evaluation, which Herald does not allow; the rest of it gives zero values.',
      );
    }
    return false;
  }
}

/** One compiled node: cheap to call, no parsing and no lookups by name left. */
export type Evaluator = (event: CesqlEvent, context: EvaluationContext) => CesqlValue | Missing;
