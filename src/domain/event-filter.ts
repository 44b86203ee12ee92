import { compileCesql } from './cesql/index.js';
import { hasControlCharacters } from './control-characters.js';
import { accepted, type FieldError, type Parsed } from './validation.js';

/** Attribute names and the string each is compared with, for the `exact`, `prefix` and `suffix` dialects. */
export type AttributeValues = Readonly<Record<string, string>>;

/**
 * One filter expression of the CloudEvents Subscriptions API (subscriptions/spec.md §3.2.4): one dialect per
 * object. `sql` is a CESQL 1.0 expression (docs/filters.md).
 */
export type EventFilter =
  | { readonly exact: AttributeValues }
  | { readonly prefix: AttributeValues }
  | { readonly suffix: AttributeValues }
  | { readonly all: readonly EventFilter[] }
  | { readonly any: readonly EventFilter[] }
  | { readonly not: EventFilter }
  | { readonly sql: string };

export const filterDialects = ['exact', 'prefix', 'suffix', 'all', 'any', 'not', 'sql'] as const;
export type FilterDialect = (typeof filterDialects)[number];

/**
 * What one subscription's `filters` may hold, so that matching it costs every publish little
 * (docs/isolation.md#smaller-bounds). Each `sql` expression has CESQL's own limits besides (cesql/limits.ts).
 */
export const filterLimits = {
  /** Filter expressions in all, nested ones included. */
  expressions: 64,
  /** `all`, `any` and `not` inside one another: the top-level filters are at depth 1. */
  nestingDepth: 8,
  /** `sql` expressions in all: each may examine up to CESQL's work bound per event. */
  sqlExpressions: 8,
  /** The filters as JSON text, in bytes of UTF-8. */
  bytes: 16_384,
} as const;

/** CloudEvents attribute names: lower-case letters and digits (1.0.2 §3.1.1). */
const attributeName = /^[a-z0-9]+$/;

/**
 * Reads a subscription request's `filters`: an array of filter expressions, every one of which must hold.
 * Each fault is named by a JSON pointer into the request (`filters/2/all/0`), and a CESQL expression that does
 * not parse by where in it. Refused besides: what the spec forbids (empty names or values, an empty `all` or
 * `any`), a `sql` expression whose result is always an Integer or a String (coerced to a Boolean, `1` would match
 * every event and `'x'` none: surely not what was meant), and filters over the limits above.
 * @example parseEventFilters([{ prefix: { type: 'no.altinn.events.' } }, { sql: 'EXISTS subject' }])
 */
export function parseEventFilters(value: unknown, pointer = 'filters'): Parsed<EventFilter[]> {
  if (!Array.isArray(value)) {
    return { ok: false, errors: [{ field: pointer, message: `'${pointer}' must be an array of filter expressions.` }] };
  }
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > filterLimits.bytes) {
    return { ok: false, errors: [{ field: pointer, message: `The filters are ${bytes} bytes as JSON; at most ${filterLimits.bytes} are allowed.` }] };
  }
  const reader = new FilterReader();
  const filters = value.map((item, index) => reader.read(item, `${pointer}/${index}`, 1));
  if (reader.expressions > filterLimits.expressions) {
    reader.fault(pointer, `The filters hold ${reader.expressions} filter expressions; at most ${filterLimits.expressions} are allowed.`);
  }
  if (reader.sqlExpressions > filterLimits.sqlExpressions) {
    reader.fault(pointer, `The filters hold ${reader.sqlExpressions} sql expressions; at most ${filterLimits.sqlExpressions} are allowed.`);
  }
  if (reader.errors.length > 0) return { ok: false, errors: reader.errors };
  return accepted(filters as EventFilter[]);
}

/** Walks one request's filters, counting what the limits bound and gathering every fault. */
class FilterReader {
  readonly errors: FieldError[] = [];
  expressions = 0;
  sqlExpressions = 0;

  fault(field: string, message: string): undefined {
    this.errors.push({ field, message });
    return undefined;
  }

  read(item: unknown, at: string, depth: number): EventFilter | undefined {
    this.expressions += 1;
    if (depth > filterLimits.nestingDepth) {
      return this.fault(at, `Filters nest at most ${filterLimits.nestingDepth} deep (all, any and not inside one another).`);
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      return this.fault(at, `A filter expression is an object with one dialect: ${filterDialects.join(', ')}.`);
    }
    const keys = Object.keys(item);
    const [dialect] = keys;
    if (dialect === undefined) return this.fault(at, `An empty filter expression: name one dialect (${filterDialects.join(', ')}).`);
    if (keys.length > 1) {
      return this.fault(at, `A filter expression has one dialect; this one has ${keys.length} (${keys.join(', ')}): put them in an 'all'.`);
    }
    const body = (item as Record<string, unknown>)[dialect];
    const inner = `${at}/${escapePointer(dialect)}`;
    switch (dialect) {
      case 'exact':
      case 'prefix':
      case 'suffix':
        return this.attributeValues(dialect, body, inner);
      case 'all':
      case 'any':
        return this.list(dialect, body, inner, depth);
      case 'not': {
        const nested = this.read(body, inner, depth + 1);
        return nested && { not: nested };
      }
      case 'sql':
        return this.sql(body, inner);
      default:
        return this.fault(at, `Unknown filter dialect '${dialect}': Herald knows ${filterDialects.join(', ')}.`);
    }
  }

  private attributeValues(dialect: 'exact' | 'prefix' | 'suffix', body: unknown, at: string): EventFilter | undefined {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return this.fault(at, `'${dialect}' takes an object of attribute names and string values.`);
    }
    const entries = Object.entries(body);
    if (entries.length === 0) return this.fault(at, `'${dialect}' names no attribute: it needs at least one.`);
    const before = this.errors.length;
    for (const [name, value] of entries) {
      const field = `${at}/${escapePointer(name)}`;
      if (name === '') this.fault(field, 'An attribute name must not be empty.');
      else if (name === 'data') this.fault(field, "'data' is not a context attribute: filters read attributes only.");
      else if (!attributeName.test(name)) {
        this.fault(field, `'${name}' is no CloudEvents attribute name: those are lower-case letters and digits.`);
      }
      if (typeof value !== 'string') this.fault(field, `The value for '${name}' must be a string.`);
      else if (value === '') this.fault(field, `The value for '${name}' must not be empty.`);
      else if (hasControlCharacters(value)) this.fault(field, `The value for '${name}' must not hold control characters.`);
    }
    if (this.errors.length > before) return undefined;
    const values = body as AttributeValues;
    return dialect === 'exact' ? { exact: values } : dialect === 'prefix' ? { prefix: values } : { suffix: values };
  }

  private list(dialect: 'all' | 'any', body: unknown, at: string, depth: number): EventFilter | undefined {
    if (!Array.isArray(body)) return this.fault(at, `'${dialect}' takes an array of filter expressions.`);
    if (body.length === 0) return this.fault(at, `'${dialect}' must hold at least one filter expression.`);
    const nested = body.map((item, index) => this.read(item, `${at}/${index}`, depth + 1));
    if (nested.some((filter) => filter === undefined)) return undefined;
    const filters = nested as EventFilter[];
    return dialect === 'all' ? { all: filters } : { any: filters };
  }

  private sql(body: unknown, at: string): EventFilter | undefined {
    this.sqlExpressions += 1;
    if (typeof body !== 'string') return this.fault(at, "'sql' takes a string: a CESQL expression.");
    if (body.trim() === '') return this.fault(at, "The 'sql' expression must not be empty.");
    const compiled = compileCesql(body);
    if (!compiled.ok) {
      const { message, offset, line, column } = compiled.error;
      return this.fault(at, `The expression does not parse at line ${line}, column ${column} (offset ${offset}): ${message}`);
    }
    const type = compiled.expression.resultType;
    if (type !== undefined && type !== 'Boolean') {
      return this.fault(
        at,
        `A filter's expression must give a Boolean; this one always gives ${type === 'Integer' ? 'an Integer' : 'a String'}. ` +
          'Compare it (`… = …`) or test it (`EXISTS`, `LIKE`, `IN`).',
      );
    }
    return { sql: body };
  }
}

/** A name as a JSON pointer token (RFC 6901): `~` and `/` escaped. */
function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
