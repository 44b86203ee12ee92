import { countSelection, type ReplayScope } from '../delivery/replay-selection.js';
import type { Authorizer } from '../domain/policy.js';
import { firstPositionStoredFrom } from '../domain/replay.js';
import type { ReplayStart } from '../domain/replay-request.js';
import type { Store } from '../store/store.js';
import { HttpProblem, invalid } from './problems.js';
import { tooManyRequests } from './rate-limits.js';
import { readableEvents } from './readable-events.js';

/**
 * One count of a replay's range at a time per consumer, in this process: a count may examine up to
 * HERALD_REPLAY_EXAMINE_LIMIT rows (a second or two), and a consumer asking for many at once would take
 * the database's readers from everyone else. Another request meanwhile is answered 429.
 */
export class ReplayCounting {
  private readonly counting = new Set<string>();

  async exclusively<T>(consumer: string, count: () => Promise<T>): Promise<T> {
    if (this.counting.has(consumer)) throw tooManyRequests(1_000, 'replay requests at once');
    this.counting.add(consumer);
    try {
      return await count();
    } finally {
      this.counting.delete(consumer);
    }
  }
}

/** A replay's range, fixed when it is asked for, and what it selects. */
export interface ReplayPlan {
  /** The range: events after this position… */
  readonly afterSeq: number;
  /** …up to and including this one. */
  readonly throughSeq: number;
  /** The events in it the scope selects, as a replay would enqueue them now. */
  readonly events: number;
}

/**
 * Fixes a replay's range and counts what it selects. The range ends at `until`, and never after the log's end
 * as the request finds it: events published later reach a receiving subscription as they are published, and
 * a replay counted now must enqueue what it counted (docs/replay.md#what-is-selected).
 * @param field the request field `start` came in (`from`, `after`, `startFrom`), for messages
 */
export async function planReplay(
  store: Store,
  authorizer: Authorizer,
  scope: ReplayScope,
  request: { readonly start: ReplayStart; readonly until: number | undefined; readonly field: string },
  examinedRows: number,
): Promise<ReplayPlan> {
  const head = await store.headPosition();
  const afterSeq = await startPosition(store, authorizer, scope, request.start, request.field, head);
  let throughSeq = head;
  if (request.until !== undefined) {
    // Stored after `until` (to the millisecond): the first such event is where the range stops short of.
    const first = await firstPositionStoredFrom(request.until + 1, 0, head, store.events.firstAtOrAfter);
    throughSeq = first === undefined ? head : first - 1;
    if (throughSeq < afterSeq && request.start.kind === 'cursor') {
      throw invalid('invalidRequest', [
        { field: 'until', message: `'until' is before the event '${request.field}' names was stored.` },
      ]);
    }
  }
  throughSeq = Math.max(throughSeq, afterSeq);
  const events = await countSelection(store, authorizer, scope, { afterSeq, throughSeq }, examinedRows);
  if (events === undefined) {
    throw new HttpProblem(
      'replayTooLarge',
      `The range holds more than ${examinedRows} events of the log for this subscription's filters. ` +
        "Choose a later start or an earlier 'until', and replay the rest in another part.",
    );
  }
  return { afterSeq, throughSeq, events };
}

/** The position a replay starts after. */
async function startPosition(
  store: Store,
  authorizer: Authorizer,
  scope: ReplayScope,
  start: ReplayStart,
  field: string,
  head: number,
): Promise<number> {
  if (start.kind === 'time') {
    const first = await firstPositionStoredFrom(start.at, 0, head, store.events.firstAtOrAfter);
    // Nothing stored since: an empty range at the end of the log.
    return first === undefined ? head : first - 1;
  }
  const { cursor } = start;
  if (cursor.kind === 'start') return 0;
  if (cursor.kind === 'position') {
    if (cursor.seq > head) throw new HttpProblem('unknownCursor', `Position ${cursor.seq} in '${field}' is beyond the end of the log.`);
    return cursor.seq;
  }
  // Ids are unique per source: prefer the event from the source the subscription filters on, if it names one.
  const source = scope.filter.source?.kind === 'tree' ? scope.filter.source.uri : undefined;
  const seq =
    (source === undefined ? undefined : await store.findEventPosition(cursor.id, source)) ??
    (await store.findEventPosition(cursor.id));
  // As a poll's `after`: an event the owner may not read is answered as unknown, so nothing tells it exists.
  if (seq !== undefined && (await readableEvents(store, authorizer, scope.consumer, [{ seq }])).length > 0) return seq;
  if (seq === undefined) {
    // Removed by retention: what followed it and is still kept can be replayed (the removed events cannot).
    const removed =
      (source === undefined ? undefined : await store.retention.removedEventPosition(cursor.id, source)) ??
      (await store.retention.removedEventPosition(cursor.id));
    if (removed !== undefined) return removed;
  }
  throw new HttpProblem('unknownCursor', `No event with the id given in '${field}' is known. Pass '0' to replay from the start of the log.`);
}
