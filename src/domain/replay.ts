import type { SourceFilter } from './source-filter.js';
import { parseSourceFilter } from './source-filter.js';
import type { TextPattern } from './text-pattern.js';

/**
 * A replay's state (docs/replay.md): `waiting` (a backfill whose push subscription has not started receiving;
 * its range ends where the log stands when it does), `running` (being enqueued, piece by piece), `completed`
 * (every event of its range enqueued) or `cancelled` (its owner stopped it; what was enqueued stays).
 */
export type ReplayStatus = 'waiting' | 'running' | 'completed' | 'cancelled';

export const replayStatuses: readonly ReplayStatus[] = ['waiting', 'running', 'completed', 'cancelled'];

/** Replays in these states count against the limits, and the background loop works on them. */
export const inProgressReplayStatuses: readonly ReplayStatus[] = ['waiting', 'running'];

/** What one consumer may ask of the replay loop (docs/replay.md#limits). */
export interface ReplayLimits {
  /** Replays in progress one subscription may have. */
  readonly perSubscription: number;
  /** Replays in progress one consumer may have, over all its subscriptions. */
  readonly perConsumer: number;
  /**
   * Log rows a replay's range may make Herald examine: the rows of the range, or, for a subscription with a
   * resource, subject or alternative subject filter, that filter's index entries in it. A larger range is
   * refused; counting it (which a replay and a dry run both do) would hold a request too long.
   */
  readonly examinedRows: number;
}

/**
 * Counting examines about 250,000 to 500,000 rows a second on either engine (docs/replay.md#limits): half a
 * million keeps a replay request, or a dry run, to a second or two.
 */
export const defaultReplayLimits: ReplayLimits = { perSubscription: 2, perConsumer: 10, examinedRows: 500_000 };

/** A subscription's filters (null: any value). */
export interface ReplayFilters {
  readonly sourceFilter: string | null;
  readonly resourceFilter: string | null;
  readonly subjectFilter: string | null;
  readonly alternativeSubjectFilter: string | null;
  readonly typeFilter: string | null;
}

/** The same filters as a read of the log takes them (store's `LogQuery`). */
export interface LogFilter {
  readonly resource?: string;
  readonly source?: SourceFilter;
  readonly types: readonly TextPattern[];
  readonly subject?: string;
  readonly alternativesubject?: string;
}

/**
 * A subscription's filters as a read of the log: the events it selects are exactly those the subscription's
 * match index (subscription-index.ts) matches. Its type filter is exact even when it holds `%`, as the index
 * compares it, unlike a poll's `type`.
 * @example logFilterOf({ resourceFilter: 'urn:altinn:resource:a', typeFilter: 'a.b', sourceFilter: null, subjectFilter: null, alternativeSubjectFilter: null })
 */
export function logFilterOf(filters: ReplayFilters): LogFilter {
  return {
    ...(filters.resourceFilter === null ? {} : { resource: filters.resourceFilter }),
    ...(filters.sourceFilter === null ? {} : { source: parseSourceFilter(filters.sourceFilter) }),
    types: filters.typeFilter === null ? [] : [{ kind: 'exact', value: filters.typeFilter }],
    ...(filters.subjectFilter === null ? {} : { subject: filters.subjectFilter }),
    ...(filters.alternativeSubjectFilter === null ? {} : { alternativesubject: filters.alternativeSubjectFilter }),
  };
}

/** The first event at or after a position and no later than another: where it is and when Herald stored it. */
export type FirstEventProbe = (atLeast: number, atMost: number) => Promise<{ readonly seq: number; readonly storedAt: number } | undefined>;

/**
 * The position of the first event between `lowest` and `highest` that Herald stored at or after `time`
 * (epoch ms), or `undefined` when none was. A binary search over positions, one probe per step (about 50 on
 * PostgreSQL's day-numbered positions): positions are handed out in commit order, so the times they were
 * stored at rise with them, to within the moment concurrent commits take.
 */
export async function firstPositionStoredFrom(
  time: number,
  lowest: number,
  highest: number,
  probe: FirstEventProbe,
): Promise<number | undefined> {
  let found: number | undefined;
  let low = lowest;
  let high = highest;
  while (low <= high) {
    const middle = low + Math.floor((high - low) / 2);
    const event = await probe(middle, high);
    if (!event) {
      // Nothing from the middle up: the answer, if any, lies below it.
      high = middle - 1;
    } else if (event.storedAt >= time) {
      found = event.seq;
      high = middle - 1;
    } else {
      low = event.seq + 1;
    }
  }
  return found;
}
