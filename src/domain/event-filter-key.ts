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

/** An attribute's value that every matching event must have. */
export interface FilterKey {
  readonly name: KeyedAttribute;
  readonly value: string;
}

/**
 * An equality every event the filters match must meet, if the filters hold one: an `exact` among the top-level
 * filters (or inside an `all`), or a `name = 'literal'` that a `sql` expression ANDs with the rest at its top.
 * The match index files the subscription under it, so its filters are evaluated only on events with that value.
 * @example filterKeyOf([{ sql: "subject = '/party/1' AND type LIKE 'a.%'" }]) // { name: 'subject', value: '/party/1' }
 */
export function filterKeyOf(filters: readonly EventFilter[]): FilterKey | undefined {
  const found = new Map<KeyedAttribute, string>();
  for (const filter of filters) collectFilter(filter, found);
  for (const name of keyedAttributes) {
    const value = found.get(name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

function collectFilter(filter: EventFilter, found: Map<KeyedAttribute, string>): void {
  if ('exact' in filter) {
    for (const [name, value] of Object.entries(filter.exact)) if (isKeyed(name)) found.set(name, value);
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

/** The `attribute = 'string'` comparisons an expression's value being true requires: those joined by AND at its top. */
function collectSyntax(syntax: Syntax, found: Map<KeyedAttribute, string>): void {
  if (syntax.kind === 'logic' && syntax.operator === 'AND') {
    collectSyntax(syntax.left, found);
    collectSyntax(syntax.right, found);
    return;
  }
  if (syntax.kind !== 'comparison' || syntax.operator !== '=') return;
  const { left, right } = syntax;
  const pair =
    left.kind === 'attribute' && right.kind === 'literal' ? { name: left.name, value: right.value }
    : right.kind === 'attribute' && left.kind === 'literal' ? { name: right.name, value: left.value }
    : undefined;
  if (pair && isKeyed(pair.name) && typeof pair.value === 'string') found.set(pair.name, pair.value);
}

function isKeyed(name: string): name is KeyedAttribute {
  return (keyedAttributes as readonly string[]).includes(name);
}
