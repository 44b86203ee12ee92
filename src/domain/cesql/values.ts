import type { CesqlValue, EvaluationContext } from './evaluation-context.js';

export type CesqlType = 'Boolean' | 'Integer' | 'String';

/** Each type's zero value: what an operator or function that errs gives (§3.1, §3.3). */
export const zeroValues = { Boolean: false, Integer: 0, String: '' } as const satisfies Record<CesqlType, CesqlValue>;

export const int32 = { min: -2_147_483_648, max: 2_147_483_647 } as const;

export function typeOf(value: CesqlValue): CesqlType {
  return typeof value === 'boolean' ? 'Boolean' : typeof value === 'number' ? 'Integer' : 'String';
}

/** How a value reads in a message: strings quoted, so `'1'` and `1` differ. */
export function describeValue(value: CesqlValue): string {
  return typeof value === 'string' ? `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'` : String(value);
}

const integerText = /^[+-]?[0-9]+$/;

/**
 * A string read as a base-10 32-bit integer with an optional sign (§3.7), or undefined when it is not one or
 * does not fit. Leading zeros are allowed; spaces are not.
 * @example parseInteger('-0042') // -42
 */
export function parseInteger(text: string): number | undefined {
  if (!integerText.test(text)) return undefined;
  const digits = text.replace(/^[+-]?0*/, '');
  // Eleven digits or more never fit; fewer are exact as a double.
  if (digits.length > 10) return undefined;
  const magnitude = digits === '' ? 0 : Number(digits);
  const value = text.startsWith('-') ? -magnitude : magnitude;
  return value < int32.min || value > int32.max ? undefined : value + 0;
}

/** "true" or "false" in any case (§3.7), or undefined. */
export function parseBoolean(text: string): boolean | undefined {
  const lower = text.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

/** Every value has a string form (§3.7): integers in base 10, booleans as `true` and `false`. */
export function castToString(value: CesqlValue): string {
  return typeof value === 'string' ? value : String(value);
}

export function castToInteger(value: CesqlValue, context: EvaluationContext): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (!context.charge(value.length)) return zeroValues.Integer;
  const parsed = parseInteger(value);
  if (parsed !== undefined) return parsed;
  context.report('cast', `${describeValue(value)} is not a 32-bit integer.`);
  return zeroValues.Integer;
}

/**
 * A value as a boolean. `implicit` is an operator's or function's own cast: there an integer is a cast error
 * (the TCK's `NOT 10` is `true` with a cast error), while BOOL(10) converts it (§3.7: not zero is true).
 */
export function castToBoolean(value: CesqlValue, context: EvaluationContext, implicit: boolean): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!implicit) return value !== 0;
    context.report('cast', `The integer ${value} is not a boolean: write BOOL(x) or x != 0 to test it.`);
    return zeroValues.Boolean;
  }
  if (!context.charge(value.length)) return zeroValues.Boolean;
  const parsed = parseBoolean(value);
  if (parsed !== undefined) return parsed;
  context.report('cast', `${describeValue(value)} is not a boolean: only 'true' and 'false', in any case, are.`);
  return zeroValues.Boolean;
}

/** An operator's or function's implicit cast to the type its signature names. */
export function castImplicitly(value: CesqlValue, type: CesqlType, context: EvaluationContext): CesqlValue {
  switch (type) {
    case 'String':
      return castToString(value);
    case 'Integer':
      return castToInteger(value, context);
    case 'Boolean':
      return castToBoolean(value, context, true);
  }
}

/**
 * A mathematical result as a 32-bit integer: one out of range is a math error, and the nearest integer in
 * range is the result, as ABS(-2147483648) is 2147483647 (§3.5.2).
 */
export function int32Result(value: number, operation: string, context: EvaluationContext): number {
  if (value > int32.max || value < int32.min) {
    context.report('math', `${operation} overflows the 32-bit integer range.`);
    return value > int32.max ? int32.max : int32.min;
  }
  // -0 (from 0 * -1 or -5 % 5) is 0.
  return value + 0;
}
