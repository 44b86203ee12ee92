import type { CesqlEvent } from '../domain/cesql/index.js';
import type { EventFilter } from '../domain/event-filter.js';
import { compileEventFilters, type EventPredicate } from '../domain/event-filter-predicate.js';
import type { Authorizer } from '../domain/policy.js';
import { type LogFilter, logFilterOf, type ReplayFilters } from '../domain/replay.js';
import type { RangeEvent, RangePiece } from '../store/event-repository.js';
import type { Store } from '../store/store.js';

/** Whose events, and which: a subscription's owner and filters. */
export interface ReplayScope {
  readonly consumer: string;
  /** The Altinn filters, which the database applies. */
  readonly filter: LogFilter;
  /** The filter expressions, compiled, applied to what the database reads: unset for none. */
  readonly predicate?: EventPredicate;
}

/**
 * The scope of a subscription, or of a subscription request: its owner, its Altinn filters and its filter
 * expressions as they are now, so a replay selects exactly what the match index would (docs/replay.md).
 */
export function scopeOfSubscription(
  consumer: string,
  subscription: ReplayFilters & { readonly filters?: readonly EventFilter[] | null },
): ReplayScope {
  const filters = subscription.filters ?? [];
  return {
    consumer,
    filter: logFilterOf(subscription),
    ...(filters.length > 0 ? { predicate: compileEventFilters(filters) } : {}),
  };
}

/** The events of a piece that pass the scope's filter expressions (read with their payloads), all without any. */
export function passingOf(scope: ReplayScope, events: readonly RangeEvent[]): RangeEvent[] {
  const { predicate } = scope;
  if (!predicate) return [...events];
  return events.filter((event) => event.payload !== undefined && predicate(JSON.parse(event.payload) as CesqlEvent));
}

/** Log rows one step of a count examines: large steps, since a count returns only what matched. */
const countStepRows = 20_000;

/**
 * The events of a piece the consumer may read now, under the policy in force: what a replay enqueues, and
 * what a dry run counts. The dispatcher and the pull route check again when they hand an event over.
 */
export function readableOf(authorizer: Authorizer, consumer: string, events: readonly RangeEvent[]): RangeEvent[] {
  if (!authorizer.enforced) return [...events];
  return events.filter((event) => authorizer.allows({ consumer, action: 'read', resource: event.resource, event }));
}

/**
 * No filter expressions (the database cannot evaluate them), and no policy or one that lets the owner read
 * every event of the one resource the scope selects: the database may count the selection.
 */
function countsInDatabase(authorizer: Authorizer, scope: ReplayScope): boolean {
  if (scope.predicate) return false;
  if (!authorizer.enforced) return true;
  const resource = scope.filter.resource;
  return resource !== undefined && authorizer.readsWholeResource?.(scope.consumer, resource) === true;
}

/** One bounded piece of the selection: the events after `afterSeq` through `throughSeq` the scope selects. */
export async function selectPiece(
  store: Store,
  authorizer: Authorizer,
  scope: ReplayScope,
  range: { readonly afterSeq: number; readonly throughSeq: number },
  bounds: { readonly examine: number; readonly events: number },
): Promise<RangePiece> {
  const piece = await store.events.readRange(
    scope.filter,
    range.afterSeq,
    range.throughSeq,
    bounds.examine,
    bounds.events,
    scope.predicate !== undefined,
  );
  return { events: readableOf(authorizer, scope.consumer, passingOf(scope, piece.events)), reached: piece.reached };
}

/**
 * Counts the events of a range the scope selects: exactly what a replay of it would enqueue if the log and the
 * policy stay as they are. Read in steps of bounded statements. Stops once `examineAtMost` rows have been
 * examined without reaching the end of the range: `undefined`, the range is too large.
 */
export async function countSelection(
  store: Store,
  authorizer: Authorizer,
  scope: ReplayScope,
  range: { readonly afterSeq: number; readonly throughSeq: number },
  examineAtMost = Number.POSITIVE_INFINITY,
): Promise<number | undefined> {
  let count = 0;
  let position = range.afterSeq;
  for (let examined = 0; position < range.throughSeq; examined += countStepRows) {
    if (examined >= examineAtMost) return undefined;
    const step = Math.min(countStepRows, examineAtMost - examined);
    const stepRange = { afterSeq: position, throughSeq: range.throughSeq };
    // A step's page holds every match of the rows it examines (the limit is the examination bound). Where the
    // owner may read every match, the database counts them without sending them.
    const piece = countsInDatabase(authorizer, scope)
      ? await store.events.countRange(scope.filter, stepRange.afterSeq, stepRange.throughSeq, step)
      : await selectPiece(store, authorizer, scope, stepRange, { examine: step, events: step });
    count += 'count' in piece ? piece.count : piece.events.length;
    position = piece.reached;
  }
  return count;
}
