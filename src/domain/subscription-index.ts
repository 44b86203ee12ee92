import type { CesqlEvent } from './cesql/index.js';
import type { EventFilter } from './event-filter.js';
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
}

/**
 * Finds the subscriptions an event matches without looking at the others: subscriptions are filed under
 * their resource filter, or, without one, under the source path their source filter starts with. An event
 * looks up its resource and each `/`-prefix of its source, so the cost of matching follows the length of the
 * source, not the number of subscriptions. Candidates are then checked against every filter: the Altinn ones
 * first, then the filter expressions, compiled once when the subscription is filed, on the event's attributes
 * parsed once per event, however many candidates read them.
 */
export class SubscriptionIndex {
  private readonly byResource = new Map<string, Entry[]>();
  private readonly bySourcePrefix = new Map<string, Entry[]>();
  /** Where each subscription is filed, so a change to one subscription touches only its own list. */
  private readonly filed = new Map<number, { readonly map: Map<string, Entry[]>; readonly key: string }>();

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
    const predicate =
      text === undefined ? undefined : known?.predicateOf === text ? known.predicate : compileEventFilters(filters.filters ?? []);
    this.remove(filters.id);
    const entry: Entry = {
      filters,
      source: filters.sourceFilter ? parseSourceFilter(filters.sourceFilter) : null,
      predicate,
      predicateOf: text,
    };
    if (text !== undefined) this.compiled.set(filters.id, entry);
    const place =
      filters.resourceFilter !== null
        ? { map: this.byResource, key: filters.resourceFilter }
        : entry.source
          ? { map: this.bySourcePrefix, key: sourceKey(entry.source) }
          : undefined;
    if (!place) return;
    file(place.map, place.key, entry);
    this.filed.set(filters.id, place);
  }

  /** Takes a subscription out, if it is filed. */
  remove(id: number): void {
    this.compiled.delete(id);
    const place = this.filed.get(id);
    if (!place) return;
    this.filed.delete(id);
    const left = (place.map.get(place.key) ?? []).filter((entry) => entry.filters.id !== id);
    if (left.length > 0) place.map.set(place.key, left);
    else place.map.delete(place.key);
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
    if (this.bySourcePrefix.size > 0)
      for (const key of sourceLookupKeys(event.source)) consider(this.bySourcePrefix.get(key));
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
