import {
  type CesqlEvent,
  type CesqlValue,
  type EvaluationContext,
  type Evaluator,
  missing,
} from './evaluation-context.js';
import { findFunction, isFunctionName } from './functions.js';
import { compileLike } from './like.js';
import type { ArithmeticOperator, ComparisonOperator, Syntax } from './syntax.js';
import {
  castImplicitly,
  castToBoolean,
  castToInteger,
  castToString,
  type CesqlType,
  int32Result,
  typeOf,
  zeroValues,
} from './values.js';

/** A compiled node and the type it returns; undefined for an attribute, whose type only the event knows. */
interface Compiled {
  readonly evaluate: Evaluator;
  readonly type: CesqlType | undefined;
}

/**
 * Turns the syntax tree into closures, once: attribute names, LIKE patterns and function definitions are
 * resolved here, so evaluating an event only calls functions. Semantics: CESQL 1.0 §3 (docs/filters.md).
 *
 * Errors: an operator or function whose operand erred (a missing attribute, a division by zero, a failed
 * cast below it) gives its return type's zero value without computing, as §3.2 says of missing attributes
 * and the TCK's `true AND (1 != 1 / 0)` (false) shows of the others. An error of its own (its cast of an
 * operand, a division by zero) gives the result its definition names: `NOT 10` is true, with a cast error.
 * The errors are all collected, and evaluation goes on.
 */
export function compileSyntax(syntax: Syntax): Compiled {
  switch (syntax.kind) {
    case 'literal': {
      const value = syntax.value;
      return { evaluate: () => value, type: typeOf(value) };
    }
    case 'attribute':
      return { evaluate: attributeReader(syntax.name), type: undefined };
    case 'exists': {
      const name = syntax.name;
      return { evaluate: (event) => readAttribute(event, name) !== undefined, type: 'Boolean' };
    }
    case 'not': {
      const operand = compileSyntax(syntax.operand).evaluate;
      return {
        evaluate: (event, context) => {
          const before = context.errorCount;
          const value = operand(event, context);
          return erred(value, before, context) ? false : !castToBoolean(value, context, true);
        },
        type: 'Boolean',
      };
    }
    case 'negate': {
      const operand = compileSyntax(syntax.operand).evaluate;
      return {
        evaluate: (event, context) => {
          const before = context.errorCount;
          const value = operand(event, context);
          return erred(value, before, context) ? 0 : int32Result(-castToInteger(value, context), 'Negation', context);
        },
        type: 'Integer',
      };
    }
    case 'arithmetic':
      return { evaluate: arithmetic(syntax.operator, compileSyntax(syntax.left).evaluate, compileSyntax(syntax.right).evaluate), type: 'Integer' };
    case 'comparison':
      return { evaluate: comparison(syntax.operator, compileSyntax(syntax.left).evaluate, compileSyntax(syntax.right).evaluate), type: 'Boolean' };
    case 'logic':
      return { evaluate: logic(syntax.operator, compileSyntax(syntax.left).evaluate, compileSyntax(syntax.right).evaluate), type: 'Boolean' };
    case 'like': {
      const operand = compileSyntax(syntax.operand).evaluate;
      const matches = compileLike(syntax.pattern);
      const negated = syntax.negated;
      return {
        evaluate: (event, context) => {
          const before = context.errorCount;
          const value = operand(event, context);
          if (erred(value, before, context)) return false;
          const matched = matches(castToString(value), context);
          // A LIKE that ran out of budget erred: false, whether negated or not.
          return context.errorCount !== before ? false : matched !== negated;
        },
        type: 'Boolean',
      };
    }
    case 'in':
      return { evaluate: membership(compileSyntax(syntax.operand).evaluate, syntax.set.map((s) => compileSyntax(s).evaluate), syntax.negated), type: 'Boolean' };
    case 'call':
      return call(syntax.name, syntax.args.map(compileSyntax));
  }
}

/** Whether the operands evaluated since `before` erred; narrows the value to a CESQL value when not. */
function erred(value: CesqlValue | typeof missing, before: number, context: EvaluationContext): value is typeof missing {
  return context.errorCount !== before || value === missing;
}

/**
 * Only the event's own attributes: a name such as `constructor` must not find Object.prototype's. `data` is no
 * attribute (CESQL does not read data), and null means unset in CloudEvents JSON.
 */
function readAttribute(event: CesqlEvent, name: string): unknown {
  if (name === 'data' || !Object.hasOwn(event, name)) return undefined;
  const value = event[name];
  return value === null ? undefined : value;
}

function attributeReader(name: string): Evaluator {
  return (event, context) => {
    const value = readAttribute(event, name);
    if (value === undefined) {
      context.report('missingAttribute', `The event has no attribute '${name}'.`);
      return missing;
    }
    if (typeof value === 'string' || typeof value === 'boolean') return value;
    // §3.2: what is not a CESQL type is a string; a JSON number is an Integer only when it is a 32-bit integer.
    if (typeof value === 'number' && Number.isInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647) {
      return value + 0;
    }
    return typeof value === 'number' ? String(value) : JSON.stringify(value);
  };
}

function arithmetic(operator: ArithmeticOperator, left: Evaluator, right: Evaluator): Evaluator {
  const operation = `${operator === '%' ? 'Remainder' : operator === '/' ? 'Division' : 'Arithmetic'} (${operator})`;
  return (event, context) => {
    const before = context.errorCount;
    const l = left(event, context);
    const r = right(event, context);
    if (erred(l, before, context) || erred(r, before, context)) return zeroValues.Integer;
    const x = castToInteger(l, context);
    const y = castToInteger(r, context);
    switch (operator) {
      case '+':
        return int32Result(x + y, operation, context);
      case '-':
        return int32Result(x - y, operation, context);
      case '*':
        return int32Result(x * y, operation, context);
      default:
        if (y === 0) {
          context.report('math', `${operation} by zero.`);
          return zeroValues.Integer;
        }
        // Division rounds toward zero; the remainder takes the sign of x (§3.4.2).
        return int32Result(operator === '/' ? Math.trunc(x / y) : x % y, operation, context);
    }
  };
}

/**
 * `=`, `!=` and `<>` are defined for each type: the left operand is cast to the right one's type (§3.7, the
 * ambiguous-operator rule), so `'TRUE' = true` holds and `true = 'TRUE'` does not. The others are integer only.
 */
function comparison(operator: ComparisonOperator, left: Evaluator, right: Evaluator): Evaluator {
  return (event, context) => {
    const before = context.errorCount;
    const l = left(event, context);
    const r = right(event, context);
    if (erred(l, before, context) || erred(r, before, context)) return false;
    switch (operator) {
      case '=':
        return equals(l, r, context);
      case '!=':
      case '<>':
        return !equals(l, r, context);
      default: {
        const x = castToInteger(l, context);
        const y = castToInteger(r, context);
        return operator === '<' ? x < y : operator === '<=' ? x <= y : operator === '>' ? x > y : x >= y;
      }
    }
  };
}

function equals(left: CesqlValue, right: CesqlValue, context: EvaluationContext): boolean {
  const cast = typeof left === typeof right ? left : castImplicitly(left, typeOf(right), context);
  if (typeof cast === 'string' && !context.charge(Math.min(cast.length, (right as string).length))) return false;
  return cast === right;
}

/**
 * An operand of AND, OR or XOR as a boolean, or undefined when it erred (the operator then gives false).
 */
function logicOperand(evaluate: Evaluator, event: CesqlEvent, context: EvaluationContext): boolean | undefined {
  const before = context.errorCount;
  const value = evaluate(event, context);
  return erred(value, before, context) ? undefined : castToBoolean(value, context, true);
}

/** AND and OR stop at a left operand that decides (§3.4.2); XOR needs both. */
function logic(operator: 'AND' | 'OR' | 'XOR', left: Evaluator, right: Evaluator): Evaluator {
  switch (operator) {
    case 'AND':
      return (event, context) => logicOperand(left, event, context) === true && logicOperand(right, event, context) === true;
    case 'OR':
      return (event, context) => {
        const l = logicOperand(left, event, context);
        if (l === undefined) return false;
        return l || logicOperand(right, event, context) === true;
      };
    case 'XOR':
      return (event, context) => {
        const l = logicOperand(left, event, context);
        const r = logicOperand(right, event, context);
        return l === undefined || r === undefined ? false : l !== r;
      };
  }
}

/** IN casts each member to the type of the left operand (§3.7) and compares as `=` does. */
function membership(operand: Evaluator, set: readonly Evaluator[], negated: boolean): Evaluator {
  return (event, context) => {
    const before = context.errorCount;
    const value = operand(event, context);
    const members = set.map((member) => member(event, context));
    if (erred(value, before, context)) return false;
    const type = typeOf(value);
    let found = false;
    for (const member of members) {
      // erred() above saw no error, so no member is missing. Compared as `=` compares, cast to the left's type.
      if (equals(castImplicitly(member as CesqlValue, type, context), value, context)) {
        found = true;
        break;
      }
    }
    return found !== negated;
  };
}

/**
 * A call, dispatched now by name and number of arguments. One that matches no function is not a parse error
 * (§3.5, and the TCK's `CONCAT_WS()`): it evaluates to false with a missingFunction error.
 */
function call(name: string, args: readonly Compiled[]): Compiled {
  const definition = findFunction(name, args.length);
  if (!definition) {
    const message = isFunctionName(name)
      ? `${name} does not take ${args.length} argument${args.length === 1 ? '' : 's'}.`
      : `There is no function ${name}.`;
    return {
      evaluate: (_event, context) => {
        context.report('missingFunction', message);
        return false;
      },
      type: 'Boolean',
    };
  }
  const { parameters, rest, returns, apply } = definition;
  const evaluators = args.map((a) => a.evaluate);
  const zero = zeroValues[returns];
  return {
    evaluate: (event, context) => {
      const before = context.errorCount;
      const values = evaluators.map((evaluate) => evaluate(event, context));
      if (context.errorCount !== before) return zero;
      let examined = 0;
      const cast = values.map((value, i) => {
        const type = parameters[i] ?? rest;
        const argument = type === undefined || type === 'Any' ? (value as CesqlValue) : castImplicitly(value as CesqlValue, type, context);
        if (typeof argument === 'string') examined += argument.length;
        return argument;
      });
      return context.charge(examined) ? apply(cast, context) : zero;
    },
    type: returns,
  };
}
