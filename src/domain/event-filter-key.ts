import { parse } from './cesql/parser.js';
import type { Syntax } from './cesql/syntax.js';
import type { EventFilter } from './event-filter.js';

/**
 * The attributes the match index may file a subscription under: always strings when an event has them (Herald
 * refuses other values), so CESQL's `subject = 'x'` and the `exact` dialect mean plain string equality on them.
 * In order of preference: the most selective first.
 */
export const keyedAttributes = ['subject', 'alternativesubject', 'type', 'source'] as const;
export type KeyedAttribute = (typeof keyedAttributes)[number];

/** An attribute, and the values one of which every matching event must have. */
export interface FilterKey {
  readonly name: KeyedAttribute;
  readonly values: readonly string[];
}

/** Values past this many are not worth filing under: the subscription is evaluated on its candidates instead. */
const mostValues = 64;

/**
 * Values of an attribute one of which every event the filters match must have, if the filters require some: an
 * `exact` among the top-level filters (or inside an `all`), or a `name = 'literal'` or `name IN ('a', 'b')` that
 * a `sql` expression ANDs with the rest at its top. The match index files the subscription under each value, so
 * its filters are evaluated only on events with one of them.
 * @example filterKeyOf([{ sql: "subject = '/party/1' AND type LIKE 'a.%'" }]) // { name: 'subject', values: ['/party/1'] }
 */
export function filterKeyOf(filters: readonly EventFilter[]): FilterKey | undefined {
  const found = new Map<KeyedAttribute, readonly string[]>();
  for (const filter of filters) collectFilter(filter, found);
  for (const name of keyedAttributes) {
    const values = found.get(name);
    if (values !== undefined) return { name, values };
  }
  return undefined;
}

/** Keeps the requirement with fewer values: each is required, so either one is a correct key. */
function requireValues(found: Map<KeyedAttribute, readonly string[]>, name: KeyedAttribute, values: readonly string[]): void {
  const known = found.get(name);
  if (values.length <= mostValues && (known === undefined || values.length < known.length)) found.set(name, [...new Set(values)]);
}

function collectFilter(filter: EventFilter, found: Map<KeyedAttribute, readonly string[]>): void {
  if ('exact' in filter) {
    for (const [name, value] of Object.entries(filter.exact)) if (isKeyed(name)) requireValues(found, name, [value]);
  } else if ('all' in filter) {
    for (const nested of filter.all) collectFilter(nested, found);
  } else if ('sql' in filter) {
    let syntax: Syntax;
    try {
      syntax = parse(filter.sql);
    } catch {
      return;
    }
    collectSyntax(syntax, found);
  }
}

/**
 * The `attribute = 'string'` comparisons and `attribute IN ('a', 'b')` tests an expression's value being true
 * requires: those joined by AND at its top.
 */
function collectSyntax(syntax: Syntax, found: Map<KeyedAttribute, readonly string[]>): void {
  if (syntax.kind === 'logic' && syntax.operator === 'AND') {
    collectSyntax(syntax.left, found);
    collectSyntax(syntax.right, found);
    return;
  }
  if (syntax.kind === 'in' && !syntax.negated && syntax.operand.kind === 'attribute' && isKeyed(syntax.operand.name)) {
    const values = syntax.set.map((member) => (member.kind === 'literal' && typeof member.value === 'string' ? member.value : undefined));
    if (values.every((value) => value !== undefined)) requireValues(found, syntax.operand.name, values as string[]);
    return;
  }
  if (syntax.kind !== 'comparison' || syntax.operator !== '=') return;
  const { left, right } = syntax;
  const pair =
    left.kind === 'attribute' && right.kind === 'literal' ? { name: left.name, value: right.value }
    : right.kind === 'attribute' && left.kind === 'literal' ? { name: right.name, value: left.value }
    : undefined;
  if (pair && isKeyed(pair.name) && typeof pair.value === 'string') requireValues(found, pair.name, [pair.value]);
}

function isKeyed(name: string): name is KeyedAttribute {
  return (keyedAttributes as readonly string[]).includes(name);
}
