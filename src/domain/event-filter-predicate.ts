import { type CesqlEvent, type CesqlValue, compileCesql } from './cesql/index.js';
import { parseBoolean } from './cesql/values.js';
import type { AttributeValues, EventFilter } from './event-filter.js';

/** Whether an event, given by its attributes as its structured JSON holds them, passes. */
export type EventPredicate = (attributes: CesqlEvent) => boolean;

const never: EventPredicate = () => false;

/**
 * Compiles a subscription's filters once into one predicate: every filter must hold (Subscriptions API
 * §3.2.4). CESQL expressions are compiled here, not per event. Filters are checked when they are accepted
 * (event-filter.ts); one that no longer compiles (a stricter Herald reading an older row) matches nothing
 * rather than everything.
 * @example compileEventFilters([{ exact: { type: 'a.b' } }])({ type: 'a.b' }) // true
 */
export function compileEventFilters(filters: readonly EventFilter[]): EventPredicate {
  return allOf(filters.map(compileFilter));
}

function compileFilter(filter: EventFilter): EventPredicate {
  if ('exact' in filter) return attributeTest(filter.exact, (value, wanted) => value === wanted);
  if ('prefix' in filter) return attributeTest(filter.prefix, (value, wanted) => value.startsWith(wanted));
  if ('suffix' in filter) return attributeTest(filter.suffix, (value, wanted) => value.endsWith(wanted));
  if ('all' in filter) return allOf(filter.all.map(compileFilter));
  if ('any' in filter) {
    const nested = filter.any.map(compileFilter);
    return (attributes) => nested.some((predicate) => predicate(attributes));
  }
  if ('not' in filter) {
    const nested = compileFilter(filter.not);
    return (attributes) => !nested(attributes);
  }
  return sqlTest(filter.sql);
}

function allOf(predicates: readonly EventPredicate[]): EventPredicate {
  if (predicates.length === 1 && predicates[0]) return predicates[0];
  return (attributes) => predicates.every((predicate) => predicate(attributes));
}

/** Every named attribute present, and its string form passing `test` against the filter's value. */
function attributeTest(values: AttributeValues, test: (value: string, wanted: string) => boolean): EventPredicate {
  const pairs = Object.entries(values);
  return (attributes) => {
    for (const [name, wanted] of pairs) {
      const value = stringForm(attributes, name);
      if (value === undefined || !test(value, wanted)) return false;
    }
    return true;
  };
}

/**
 * An attribute's value as the dialects compare it: CloudEvents' string encoding of it (an integer in base 10,
 * a boolean as `true` or `false`); undefined when the event does not have it. Only own attributes, and never
 * `data`, which the filters refuse to name.
 */
function stringForm(attributes: CesqlEvent, name: string): string | undefined {
  if (!Object.hasOwn(attributes, name)) return undefined;
  const value = attributes[name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * A `sql` filter: true when the value, coerced to a Boolean, is true and evaluating met no error (§3.2.4.1.2).
 * Expressions whose type is known are Booleans (others are refused), so the compiled `matches` serves them; a
 * bare attribute's value is coerced as CESQL's BOOL does.
 */
function sqlTest(text: string): EventPredicate {
  const compiled = compileCesql(text);
  if (!compiled.ok) return never;
  const { expression } = compiled;
  if (expression.resultType === 'Boolean') return (attributes) => expression.matches(attributes);
  return (attributes) => {
    const { result, errors } = expression.evaluate(attributes);
    return errors.length === 0 && coercesToTrue(result);
  };
}

function coercesToTrue(value: CesqlValue): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  return parseBoolean(value) === true;
}
