import type { CesqlValue, EvaluationContext } from './evaluation-context.js';
import { cesqlLimits } from './limits.js';
import { characterLength, sliceCharacters, trimWhiteSpace } from './text.js';
import {
  castToBoolean,
  castToInteger,
  castToString,
  type CesqlType,
  int32,
  parseBoolean,
  parseInteger,
} from './values.js';

/** A parameter's type; `Any` takes the value as it is (the casting functions). */
export type ParameterType = CesqlType | 'Any';

/**
 * One built-in function (§3.5). Arguments arrive already cast to the parameter types; the function reports its
 * own errors and still returns a value of its return type (§3.5.3).
 */
export interface FunctionDefinition {
  readonly name: string;
  readonly parameters: readonly ParameterType[];
  /** The type of any further arguments, for a variadic function. */
  readonly rest?: CesqlType;
  readonly returns: CesqlType;
  readonly apply: (args: readonly CesqlValue[], context: EvaluationContext) => CesqlValue;
}

const s = (value: CesqlValue | undefined) => value as string;
const n = (value: CesqlValue | undefined) => value as number;

/** A string a function built, unless it is over the limit: then the empty string and an error (limits.ts). */
function built(name: string, result: string, context: EvaluationContext): string {
  if (result.length > cesqlLimits.builtString) {
    context.report(
      'functionEvaluation',
      `${name} would build a string of ${result.length} characters; Herald allows ${cesqlLimits.builtString}. It gives the empty string.`,
    );
    return '';
  }
  return context.charge(result.length) ? result : '';
}

function substring(text: string, position: number, length: number | undefined, context: EvaluationContext): string {
  const size = characterLength(text);
  if (position > size || position < -size) {
    context.report('functionEvaluation', `SUBSTRING: position ${position} is outside a string of ${size} characters.`);
    return '';
  }
  if (length !== undefined && length < 0) {
    context.report('functionEvaluation', `SUBSTRING: the length ${length} is negative.`);
    return '';
  }
  if (position === 0) return '';
  const start = position > 0 ? position - 1 : size + position;
  return sliceCharacters(text, start, length === undefined ? size : Math.min(size, start + length));
}

function leftOrRight(name: 'LEFT' | 'RIGHT', text: string, count: number, context: EvaluationContext): string {
  if (count < 0) {
    context.report('functionEvaluation', `${name}: the count ${count} is negative; it gives the string unchanged.`);
    return text;
  }
  const size = characterLength(text);
  if (size <= count) return text;
  return name === 'LEFT' ? sliceCharacters(text, 0, count) : sliceCharacters(text, size - count, size);
}

/**
 * The built-in functions: CESQL 1.0's string and math functions (§3.5.1, §3.5.2), the casting functions INT,
 * BOOL and STRING that §3.7 and the TCK use, and IS_INT and IS_BOOL from the working draft, kept because a
 * filter needs them to test a value before casting it.
 */
export const builtInFunctions: readonly FunctionDefinition[] = [
  { name: 'LENGTH', parameters: ['String'], returns: 'Integer', apply: ([x]) => characterLength(s(x)) },
  {
    name: 'CONCAT',
    parameters: [],
    rest: 'String',
    returns: 'String',
    apply: (args, context) => built('CONCAT', (args as string[]).join(''), context),
  },
  {
    name: 'CONCAT_WS',
    parameters: ['String'],
    rest: 'String',
    returns: 'String',
    apply: ([delimiter, ...args], context) => built('CONCAT_WS', (args as string[]).join(s(delimiter)), context),
  },
  { name: 'LOWER', parameters: ['String'], returns: 'String', apply: ([x], context) => built('LOWER', s(x).toLowerCase(), context) },
  { name: 'UPPER', parameters: ['String'], returns: 'String', apply: ([x], context) => built('UPPER', s(x).toUpperCase(), context) },
  { name: 'TRIM', parameters: ['String'], returns: 'String', apply: ([x]) => trimWhiteSpace(s(x)) },
  {
    name: 'LEFT',
    parameters: ['String', 'Integer'],
    returns: 'String',
    apply: ([x, y], context) => leftOrRight('LEFT', s(x), n(y), context),
  },
  {
    name: 'RIGHT',
    parameters: ['String', 'Integer'],
    returns: 'String',
    apply: ([x, y], context) => leftOrRight('RIGHT', s(x), n(y), context),
  },
  {
    name: 'SUBSTRING',
    parameters: ['String', 'Integer'],
    returns: 'String',
    apply: ([x, position], context) => substring(s(x), n(position), undefined, context),
  },
  {
    name: 'SUBSTRING',
    parameters: ['String', 'Integer', 'Integer'],
    returns: 'String',
    apply: ([x, position, length], context) => substring(s(x), n(position), n(length), context),
  },
  {
    name: 'ABS',
    parameters: ['Integer'],
    returns: 'Integer',
    apply: ([x], context) => {
      if (n(x) === int32.min) {
        context.report('math', `ABS(${int32.min}) overflows the 32-bit integer range; it gives ${int32.max}.`);
        return int32.max;
      }
      return Math.abs(n(x));
    },
  },
  { name: 'INT', parameters: ['Any'], returns: 'Integer', apply: ([x], context) => castToInteger(x as CesqlValue, context) },
  { name: 'BOOL', parameters: ['Any'], returns: 'Boolean', apply: ([x], context) => castToBoolean(x as CesqlValue, context, false) },
  { name: 'STRING', parameters: ['Any'], returns: 'String', apply: ([x]) => castToString(x as CesqlValue) },
  {
    name: 'IS_INT',
    parameters: ['Any'],
    returns: 'Boolean',
    apply: ([x]) => typeof x === 'number' || (typeof x === 'string' && parseInteger(x) !== undefined),
  },
  {
    name: 'IS_BOOL',
    parameters: ['Any'],
    returns: 'Boolean',
    apply: ([x]) => typeof x === 'boolean' || (typeof x === 'string' && parseBoolean(x) !== undefined),
  },
];

/**
 * The definition a call dispatches to (§3.5): the one of that name with exactly that many parameters, else the
 * variadic one whose fixed parameters are no more than the arguments.
 */
export function findFunction(name: string, arity: number): FunctionDefinition | undefined {
  const named = builtInFunctions.filter((f) => f.name === name);
  return (
    named.find((f) => f.rest === undefined && f.parameters.length === arity) ??
    named.find((f) => f.rest !== undefined && f.parameters.length <= arity)
  );
}

/** Whether any function has this name, for a message that tells a wrong name from a wrong number of arguments. */
export function isFunctionName(name: string): boolean {
  return builtInFunctions.some((f) => f.name === name);
}
