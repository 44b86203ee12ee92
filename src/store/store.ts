import type { ValidEvent } from '../domain/cloudevent.js';
import type { SourceFilter } from '../domain/source-filter.js';
import type { TextPattern } from '../domain/text-pattern.js';
import type { AttemptRepository } from './attempt-repository.js';
import type { DeliveryRepository } from './delivery-repository.js';
import type { DispatcherHoldings } from './dispatcher-holdings.js';
import type { EndpointHealthRepository } from './endpoint-health-repository.js';
import type { DeliveryTask } from './records.js';
import type { EventRepository } from './event-repository.js';
import type { RetentionRepository } from './retention-repository.js';
import type { PullRepository } from './pull-repository.js';
import type { ReplayRepository } from './replay-repository.js';
import type { SubscriptionRepository } from './subscription-repository.js';

/**
 * What a store announces to every Herald process sharing it: subscriptions changed, deliveries became due, or
 * new events were committed to the log (what event streams wait for).
 */
export type StoreTopic = 'subscriptions' | 'deliveries' | 'events';

/**
 * Hears announcements. With `subscriptionIds`, only those subscriptions changed; without, anything may have
 * (another process's commit seen on SQLite, a reconnected listener), and a listener reads everything again.
 */
export type StoreListener = (topic: StoreTopic, subscriptionIds?: readonly number[]) => void;

/** The subscriptions an event matches: their ids. */
export type SubscriptionMatcher = (event: ValidEvent) => readonly number[];

/**
 * Deliveries the publishing process takes on itself in the publish transaction: new rows for push subscriptions
 * are written already leased to it, and handed to its dispatcher once the transaction commits. That spares each
 * fresh delivery a lease statement and a payload read, which is most of publish-to-delivery latency.
 */
export interface DeliveryClaim {
  readonly owner: string;
  readonly leaseUntil: number;
  /** Whether this process attempts a new delivery to this subscription at once; asked once per delivery. */
  wants(subscriptionId: number): boolean;
  /** After the commit: the deliveries leased to `owner`, with their payloads. Not called if the commit fails. */
  handOff(tasks: DeliveryTask[]): void;
  /**
   * The append is over, committed or not: room the claim still holds for deliveries it did not hand off is
   * the dispatcher's again. Called by whoever asked for the claim, never by the store.
   */
  ended(): void;
}

/** A stored event as the log returns it. */
export interface LoggedEvent {
  /** Position in the log: commit order, gaps allowed. */
  readonly seq: number;
  /** The structured CloudEvent as JSON text, exactly as it was stored. */
  readonly payload: string;
}

/** One read of the log: events after `afterSeq` that pass every given filter, in commit order. */
export interface LogQuery {
  readonly afterSeq: number;
  readonly resource?: string | undefined;
  readonly source?: SourceFilter | undefined;
  readonly types?: readonly TextPattern[] | undefined;
  readonly subject?: string | undefined;
  readonly alternativesubject?: string | undefined;
  readonly limit: number;
  /**
   * At most this many rows after `afterSeq` are examined (docs/storage.md): log rows, or, when the query has
   * an equality filter (`resource`, `subject`, `alternativesubject`), entries of that filter's index, which
   * are all candidates. Unset: as many as it takes to fill the page.
   */
  readonly examineAtMost?: number | undefined;
}

/** What one bounded read of the log found. */
export interface LogPage {
  /** The matches, in commit order, at most `limit` of them. */
  readonly events: LoggedEvent[];
  /**
   * Set when the read stopped at `examineAtMost`: every row up to and including this position was examined,
   * so the next read may start here. Unset when fewer rows than the bound follow `afterSeq`, and possibly for
   * a full page, which ends at its last event whatever the bound.
   */
  readonly examinedThrough: number | undefined;
}

/** One bounded read of the log as the bytes of its answer (`Store.readLogBytes`). */
export interface LogPageBytes {
  /** The matches' payloads as one JSON array, `[p1,p2,…]`, in UTF-8: each exactly as stored. */
  readonly body: Uint8Array;
  /** Each match's position, in commit order. */
  readonly seqs: readonly number[];
  /** Where each match's payload ends in `body` (it starts after the `[` or `,` before it). */
  readonly ends: readonly number[];
  /** As in `LogPage`. */
  readonly examinedThrough: number | undefined;
}

export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  readonly subscriptions: SubscriptionRepository;
  readonly deliveries: DeliveryRepository;
  /** Every webhook attempt on record (docs/delivery.md, "Attempts"). */
  readonly attempts: AttemptRepository;
  /** Endpoint health, the circuit breaker (docs/isolation.md). */
  readonly health: EndpointHealthRepository;
  /**
   * What each dispatcher holds, where several processes dispatch from one database and share the budgets
   * (PostgreSQL); absent where one process does (SQLite). The dispatcher shares its holdings when it is there.
   */
  readonly holdings?: DispatcherHoldings;
  readonly pull: PullRepository;
  readonly events: EventRepository;
  /** Replays of a subscription's events (docs/replay.md). */
  readonly replays: ReplayRepository;
  /** Removal of old events and deliveries (docs/retention.md). */
  readonly retention: RetentionRepository;
  /**
   * Stores events in one transaction, idempotently on (`source`, `id`), and resolves once it has committed.
   * In the same transaction each new event gets one delivery per subscription `match` names (fan-out on write),
   * so an acknowledged event is never without its deliveries. With a `claim`, the deliveries it wants are
   * written leased to its owner and handed to it after the commit.
   * @returns for each event, whether it was new (`false`: an event with its source and id was already stored).
   */
  appendEvents(events: readonly ValidEvent[], match?: SubscriptionMatcher, claim?: DeliveryClaim): Promise<boolean[]>;
  /**
   * Calls `listener` when subscriptions change, deliveries become due or events are committed, whichever
   * process caused it.
   * @returns a function that stops listening
   */
  watch(listener: StoreListener): () => void;
  /** Reads one page of the log, examining at most `examineAtMost` rows: what requests use. */
  readLog(query: LogQuery): Promise<LogPage>;
  /**
   * `readLog`, answered as the bytes of a JSON array of its events: what `GET /events` sends, made where the
   * rows are read (a reader thread, the database server) instead of on the event loop.
   */
  readLogBytes(query: LogQuery): Promise<LogPageBytes>;
  /** The events of `readLog`, for callers that read whole small logs (tests, tools). */
  readEvents(query: LogQuery): Promise<LoggedEvent[]>;
  /**
   * The position of the event with this id (and source, when given). Ids are unique only per source, so
   * without one the earliest such event wins: a replay of a few events, never a skip.
   */
  findEventPosition(id: string, source?: string): Promise<number | undefined>;
  /** The position of the newest committed event, 0 for an empty log. */
  headPosition(): Promise<number>;
  /** Throws unless the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Raised when the database holds a schema newer than this Herald knows. */
export class SchemaTooNewError extends Error {
  constructor(databaseVersion: number, codeVersion: number) {
    super(
      `The database schema is at version ${databaseVersion}, but this Herald knows versions up to ${codeVersion}. ` +
        'Run a Herald at least as new as the one that migrated this database, or point HERALD_DATABASE elsewhere.',
    );
    this.name = 'SchemaTooNewError';
  }
}
