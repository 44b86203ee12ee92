import type { CesqlEvent } from './cesql/index.js';
import type { EventFilter } from './event-filter.js';
import { type FilterKey, filterKeyOf, type KeyedAttribute } from './event-filter-key.js';
import { compileEventFilters, type EventPredicate } from './event-filter-predicate.js';
import { matchesSourceFilter, parseSourceFilter, type SourceFilter } from './source-filter.js';

/** A subscription's filters, as the index needs them. A null filter matches every value. */
export interface SubscriptionFilters {
  readonly id: number;
  readonly sourceFilter: string | null;
  readonly resourceFilter: string | null;
  readonly subjectFilter: string | null;
  readonly alternativeSubjectFilter: string | null;
  readonly typeFilter: string | null;
  /** The Subscriptions API's filter expressions (event-filter.ts); null or unset for none. */
  readonly filters?: readonly EventFilter[] | null;
}

/** The attributes of an event that filters look at. */
export interface MatchableEvent {
  readonly source: string;
  readonly resource: string;
  readonly type: string;
  readonly subject: string | null;
  readonly alternativesubject: string | null;
  /**
   * The structured event as JSON text, for filter expressions, which may read any attribute. Without it they
   * read the attributes above.
   */
  readonly payload?: string;
}

interface Entry {
  readonly filters: SubscriptionFilters;
  readonly source: SourceFilter | null;
  /** The filter expressions, compiled; undefined for none. */
  readonly predicate: EventPredicate | undefined;
  /** The expressions' JSON text, which tells whether a later reading of the subscription can keep `predicate`. */
  readonly predicateOf: string | undefined;
  /** Attribute values one of which the expressions require (event-filter-key.ts): the entry is filed under each. */
  readonly key: FilterKey | undefined;
}

/** Where a subscription is filed: lists of one of the maps, and the keyed attribute it counts towards. */
interface Place {
  readonly map: Map<string, Entry[]>;
  readonly keys: readonly string[];
  readonly keyed?: { readonly name: KeyedAttribute; readonly bySource: boolean };
}

/**
 * Finds the subscriptions an event matches without looking at the others: subscriptions are filed under
 * their resource filter, or, without one, under the source path their source filter starts with. An event
 * looks up its resource and each `/`-prefix of its source, so the cost of matching follows the length of the
 * source, not the number of subscriptions. Candidates are then checked against every filter: the Altinn ones
 * first, then the filter expressions, compiled once when the subscription is filed, on the event's attributes
 * parsed once per event, however many candidates read them. A subscription whose expressions require an
 * attribute value (`subject = '/party/1'`, an `exact` type) is filed under its resource or source path and that
 * value, so its expressions run only on events that have it: a thousand per-party subscriptions cost an event
 * one lookup, not a thousand evaluations.
 */
export class SubscriptionIndex {
  private readonly byResource = new Map<string, Entry[]>();
  private readonly bySourcePrefix = new Map<string, Entry[]>();
  /** Where each subscription is filed, so a change to one subscription touches only its own list. */
  private readonly filed = new Map<number, Place>();
  /** Entries filed under a resource or source path and a required attribute value (see `keyedPlace`). */
  private readonly byAttribute = new Map<string, Entry[]>();
  /** How many entries are filed under each attribute, and under a source path and an attribute. */
  private readonly keyedNames = new Map<KeyedAttribute, number>();
  private sourceKeyed = 0;

  /** Subscriptions' compiled filter expressions, by id, that a reading with the same expressions may keep. */
  private readonly compiled = new Map<number, Entry>();

  /**
   * @param previous the index this one replaces: a subscription whose filter expressions did not change keeps
   * their compiled form, so a full reload compiles only what changed
   */
  constructor(subscriptions: Iterable<SubscriptionFilters>, previous?: SubscriptionIndex) {
    for (const filters of subscriptions) this.upsert(filters, previous);
  }

  /** Files a subscription, or files it again with its current filters. */
  upsert(filters: SubscriptionFilters, previous: SubscriptionIndex = this): void {
    const text = filters.filters && filters.filters.length > 0 ? JSON.stringify(filters.filters) : undefined;
    const known = previous.compiled.get(filters.id);
    const kept = text !== undefined && known?.predicateOf === text ? known : undefined;
    const expressions = filters.filters ?? [];
    this.remove(filters.id);
    const entry: Entry = {
      filters,
      source: filters.sourceFilter ? parseSourceFilter(filters.sourceFilter) : null,
      predicate: text === undefined ? undefined : (kept?.predicate ?? compileEventFilters(expressions)),
      predicateOf: text,
      key: text === undefined ? undefined : kept ? kept.key : filterKeyOf(expressions),
    };
    if (text !== undefined) this.compiled.set(filters.id, entry);
    const base =
      filters.resourceFilter !== null
        ? { map: this.byResource, key: filters.resourceFilter }
        : entry.source
          ? { map: this.bySourcePrefix, key: sourceKey(entry.source) }
          : undefined;
    if (!base) return;
    const place = entry.key ? this.keyedPlace(base, entry.key) : { map: base.map, keys: [base.key] };
    for (const key of place.keys) file(place.map, key, entry);
    this.filed.set(filters.id, place);
  }

  /**
   * The lists for an entry of a resource or source path that requires one of some attribute values, one per
   * value (an event has one value, so it finds the entry at most once), counted for lookups.
   */
  private keyedPlace(base: { readonly map: Map<string, Entry[]>; readonly key: string }, key: FilterKey): Place {
    const bySource = base.map === this.bySourcePrefix;
    this.keyedNames.set(key.name, (this.keyedNames.get(key.name) ?? 0) + 1);
    if (bySource) this.sourceKeyed += 1;
    const keys = key.values.map((value) => attributeKey(bySource, base.key, key.name, value));
    return { map: this.byAttribute, keys, keyed: { name: key.name, bySource } };
  }

  /** Takes a subscription out, if it is filed. */
  remove(id: number): void {
    this.compiled.delete(id);
    const place = this.filed.get(id);
    if (!place) return;
    this.filed.delete(id);
    if (place.keyed) {
      const { name, bySource } = place.keyed;
      const left = (this.keyedNames.get(name) ?? 1) - 1;
      if (left > 0) this.keyedNames.set(name, left);
      else this.keyedNames.delete(name);
      if (bySource) this.sourceKeyed -= 1;
    }
    for (const key of place.keys) {
      const left = (place.map.get(key) ?? []).filter((entry) => entry.filters.id !== id);
      if (left.length > 0) place.map.set(key, left);
      else place.map.delete(key);
    }
  }

  /** The ids of every subscription whose filters all match the event. */
  match(event: MatchableEvent): number[] {
    const matched: number[] = [];
    let attributes: CesqlEvent | undefined;
    const consider = (entries: Entry[] | undefined) => {
      for (const entry of entries ?? []) {
        if (!matches(entry, event)) continue;
        if (entry.predicate && !entry.predicate((attributes ??= attributesOf(event)))) continue;
        matched.push(entry.filters.id);
      }
    };
    consider(this.byResource.get(event.resource));
    for (const name of this.keyedNames.keys()) {
      const value = event[name];
      if (value !== null) consider(this.byAttribute.get(attributeKey(false, event.resource, name, value)));
    }
    if (this.bySourcePrefix.size > 0 || this.sourceKeyed > 0) {
      for (const key of sourceLookupKeys(event.source)) {
        consider(this.bySourcePrefix.get(key));
        if (this.sourceKeyed === 0) continue;
        for (const name of this.keyedNames.keys()) {
          const value = event[name];
          if (value !== null) consider(this.byAttribute.get(attributeKey(true, key, name, value)));
        }
      }
    }
    return matched;
  }
}

/** The event's attributes, read once per event for every candidate with filter expressions. */
function attributesOf(event: MatchableEvent): CesqlEvent {
  const { payload } = event;
  if (payload === undefined) return event as unknown as CesqlEvent;
  const parsed: unknown = JSON.parse(payload);
  return typeof parsed === 'object' && parsed !== null ? (parsed as CesqlEvent) : {};
}

/** The key of a resource's (or a source path's) entries that require an attribute value. */
function attributeKey(bySource: boolean, placeKey: string, name: KeyedAttribute, value: string): string {
  return `${bySource ? 's' : 'r'}\u0000${placeKey}\u0000${name}\u0000${value}`;
}

function file(map: Map<string, Entry[]>, key: string, entry: Entry): void {
  const entries = map.get(key);
  if (entries) entries.push(entry);
  else map.set(key, [entry]);
}

/** The literal start of a source filter, cut back to its last `/`. */
function sourceKey(filter: SourceFilter): string {
  const literal = filter.kind === 'tree' ? filter.below : (filter.parts[0] ?? '');
  return literal.slice(0, literal.lastIndexOf('/') + 1);
}

/** Every key a subscription matching this source may be filed under: '' and each `/`-prefix. */
function sourceLookupKeys(source: string): string[] {
  const keys = [''];
  for (let i = source.indexOf('/'); i >= 0; i = source.indexOf('/', i + 1)) keys.push(source.slice(0, i + 1));
  // A tree filter naming exactly this source is filed under the source and a slash.
  if (!source.endsWith('/')) keys.push(`${source}/`);
  return keys;
}

function matches(entry: Entry, event: MatchableEvent): boolean {
  const f = entry.filters;
  return (
    (f.resourceFilter === null || f.resourceFilter === event.resource) &&
    (entry.source === null || matchesSourceFilter(entry.source, event.source)) &&
    (f.subjectFilter === null || f.subjectFilter === event.subject) &&
    (f.alternativeSubjectFilter === null || f.alternativeSubjectFilter === event.alternativesubject) &&
    (f.typeFilter === null || f.typeFilter === event.type)
  );
}
