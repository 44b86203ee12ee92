import type { ValidEvent } from '../domain/cloudevent.js';
import { isCommitTimeout, isRefusedByStore } from './store-errors.js';
import type { DeliveryClaim, Store, SubscriptionMatcher } from './store.js';

/** What one commit carries at most (docs/storage.md#group-commit). */
export interface CommitBounds {
  /** Events. */
  readonly events: number;
  /** Delivery rows: the events' fan-out, one row per event and subscription it matches. */
  readonly deliveries: number;
}

/**
 * 10,000 delivery rows take about 150 ms to write on either engine on a 2-core machine (450,000 took 6.8 s on
 * SQLite, 7.6 s on PostgreSQL), about as long as one request should hold up the others; smaller pieces would
 * spend more on flushes. A larger request is committed in pieces.
 */
export const defaultCommitBounds: CommitBounds = { events: 2_000, deliveries: 10_000 };

/**
 * Retrying requests one by one stops after this many consecutive failures of the store: it is down, not one
 * event. A request the database refuses for its own content (isRefusedByStore) is not such a failure.
 */
const maxFailuresInARow = 3;

/** Told of every commit the appender makes, for metrics. */
export interface CommitObserver {
  /** A transaction holding `events` events committed. */
  committed(events: number): void;
  /** A commit failed with `error`. */
  failed(error: unknown): void;
}

/**
 * Traces commits (docs/observability.md#tracing). Each request may bring the trace it belongs to (opaque here);
 * a commit is one span, linked to the traces of every request it carries.
 */
export interface CommitTracer {
  /** A transaction holding `events` events of the requests traced by `traces` begins; call the answer when it ends. */
  commitStarted(traces: readonly unknown[], events: number, engine: Store['engine']): (error?: unknown) => void;
}

/** One request, committed in one or more pieces. */
class PendingAppend {
  /** Whether each event was new, for the events committed so far. */
  readonly stored: boolean[] = [];
  /** The events before this place are committed. */
  committed = 0;
  failed = false;

  constructor(
    readonly events: readonly ValidEvent[],
    /** The request's trace, for the commit spans that carry it (CommitTracer). */
    readonly trace: unknown,
    private readonly resolve: (stored: boolean[]) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  get finished(): boolean {
    return this.failed || this.committed === this.events.length;
  }

  /** Records that the events up to `to` committed (pieces commit in order); answers the request at its last. */
  record(to: number, stored: readonly boolean[]): void {
    this.stored.push(...stored);
    this.committed = to;
    if (this.committed === this.events.length) this.resolve(this.stored);
  }

  fail(error: unknown): void {
    this.failed = true;
    this.reject(error);
  }
}

/** The events from `from` up to `to` of one request, in one commit. */
interface Piece {
  readonly request: PendingAppend;
  readonly from: number;
  readonly to: number;
}

/** What goes into one transaction: pieces of the first requests queued, and the fan-out counted for them. */
interface Commit {
  readonly pieces: readonly Piece[];
  readonly events: readonly ValidEvent[];
  /** The subscriptions each event matched when the commit was taken, so that matching is done once. */
  readonly matched: ReadonlyMap<ValidEvent, readonly number[]>;
}

/**
 * Group commit: publishes that arrive while a commit is under way are written together in the next one, so
 * the cost of making a transaction durable is shared. Nothing waits on a timer: an idle appender commits at
 * once, and batches grow only as load does.
 *
 * A commit is bounded in events and in delivery rows (`CommitBounds`), so that no request holds up the others
 * for long: one that exceeds a bound is committed in pieces, each event together with all its deliveries (an
 * event whose own fan-out exceeds the bound alone), and requests that arrive meanwhile are committed between
 * its pieces. Each caller is answered when its last piece commits; a failed commit fails only the requests
 * that were in it, and a request with a failed piece fails whole, leaving the pieces before it stored.
 */
export class GroupCommitAppender {
  private queue: PendingAppend[] = [];
  private committing: Promise<void> | undefined;
  private readonly bounds: CommitBounds;

  /** @param match names the subscriptions each new event is delivered to (fan-out in the same commit) */
  constructor(
    private readonly store: Store,
    private readonly match?: SubscriptionMatcher,
    private readonly observer?: CommitObserver,
    /** This process's dispatcher, offering to take new deliveries on at commit (see DeliveryClaim). */
    private readonly claim?: () => DeliveryClaim | undefined,
    bounds: { readonly [bound in keyof CommitBounds]?: number | undefined } = {},
    private readonly tracer?: CommitTracer,
  ) {
    // An unset bound (a setting not given) keeps the default; a commit carries at least one event.
    this.bounds = {
      events: Math.max(1, bounds.events ?? defaultCommitBounds.events),
      deliveries: bounds.deliveries ?? defaultCommitBounds.deliveries,
    };
  }

  /**
   * Resolves, once the events are durably stored, with whether each was new.
   * @param trace the request's trace, given to the CommitTracer for the commits that carry these events
   */
  append(events: readonly ValidEvent[], trace?: unknown): Promise<boolean[]> {
    if (events.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push(new PendingAppend(events, trace, resolve, reject));
      // setImmediate lets every request already read from the sockets join the first commit.
      this.committing ??= new Promise((done) => setImmediate(() => this.commitAll().finally(done)));
    });
  }

  /** Resolves when everything appended so far has been committed or has failed. */
  async drain(): Promise<void> {
    while (this.committing) await this.committing;
  }

  /** One commit, with a claim on its new deliveries if the dispatcher has room; the claim ends with it. */
  private async commit(
    events: readonly ValidEvent[],
    match: SubscriptionMatcher | undefined,
    pieces: readonly Piece[],
  ): Promise<boolean[]> {
    const traced = this.tracer?.commitStarted(pieces.map((piece) => piece.request.trace), events.length, this.store.engine);
    const claim = this.claim?.();
    try {
      const stored = await this.store.appendEvents(events, match, claim);
      traced?.();
      return stored;
    } catch (error) {
      traced?.(error);
      throw error;
    } finally {
      claim?.ended();
    }
  }

  private async commitAll(): Promise<void> {
    while (this.queue.length > 0) {
      const commit = this.takeCommit();
      const matched = commit.matched;
      const match = this.match && ((event: ValidEvent) => matched.get(event) ?? this.match?.(event) ?? []);
      try {
        const stored = await this.commit(commit.events, match, commit.pieces);
        this.observer?.committed(commit.events.length);
        this.record(commit.pieces, stored);
      } catch (error) {
        this.observer?.failed(error);
        if (isCommitTimeout(error)) {
          // Retried alone, each would wait as long again for the same missing acknowledgement (a synchronous
          // standby down): every request gets its 503 now, as HERALD_COMMIT_TIMEOUT promises.
          for (const piece of commit.pieces) piece.request.fail(error);
        } else {
          // Alone, each piece gets one more try: a conflict the shared commit met (a subscription deleted at
          // that moment, say) is gone on the retry, and a request the database refuses fails by itself.
          await this.commitOneByOne(commit.pieces);
        }
      }
      this.requeue(commit.pieces.length);
      // Between commits, requests already read from the sockets are answered (a `/health` among them) and
      // publishes join the queue, so that a request in many pieces does not stop the server.
      if (this.queue.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.committing = undefined;
  }

  /**
   * After a shared commit failed, each piece is retried alone, so a request the database refuses cannot fail
   * the others. When the database itself is down, consecutive failures end the retries early; refusals say
   * nothing about the store's health (any number of hostile requests may come together), so they do not count.
   */
  private async commitOneByOne(pieces: readonly Piece[]): Promise<void> {
    let failuresInARow = 0;
    let lastFailure: unknown;
    for (const piece of pieces) {
      if (failuresInARow >= maxFailuresInARow) {
        // The store's own error, so the request is answered as those tried were (a 503 while it is down, not
        // a 500 for an error no one can classify).
        piece.request.fail(lastFailure);
        continue;
      }
      const events = piece.request.events.slice(piece.from, piece.to);
      try {
        // Matched again: the retry is to meet the subscriptions as they are now.
        const stored = await this.commit(events, this.match, [piece]);
        this.observer?.committed(events.length);
        this.record([piece], stored);
        failuresInARow = 0;
      } catch (error) {
        this.observer?.failed(error);
        piece.request.fail(error);
        if (!isRefusedByStore(error)) {
          failuresInARow++;
          lastFailure = error;
        }
      }
    }
  }

  private record(pieces: readonly Piece[], stored: readonly boolean[]): void {
    let offset = 0;
    for (const { request, from, to } of pieces) {
      request.record(to, stored.slice(offset, offset + to - from));
      offset += to - from;
    }
  }

  /**
   * The requests of the last commit leave the front of the queue; one with pieces still to commit goes to its
   * back, behind every request that arrived meanwhile.
   */
  private requeue(taken: number): void {
    const unfinished = this.queue.splice(0, taken).filter((request) => !request.finished);
    this.queue.push(...unfinished);
  }

  /**
   * Takes events from the front of the queue, in order, while they fit the bounds; the first always goes,
   * whatever its fan-out. A request that does not fit whole ends the commit with a piece of it. A request
   * already partly committed has a commit to itself: its pieces take turns with commits of the requests that
   * arrived meanwhile (which, sharing a commit with a piece, would wait for its many rows to be written).
   */
  private takeCommit(): Commit {
    const pieces: Piece[] = [];
    const events: ValidEvent[] = [];
    const matched = new Map<ValidEvent, readonly number[]>();
    let deliveries = 0;
    for (const request of this.queue) {
      const continued = request.committed > 0;
      if (continued && events.length > 0) break;
      let to = request.committed;
      while (to < request.events.length && events.length < this.bounds.events) {
        const event = request.events[to] as ValidEvent;
        const subscriptions = this.fanOutOf(event);
        const rows = subscriptions?.length ?? 0;
        if (events.length > 0 && deliveries + rows > this.bounds.deliveries) break;
        events.push(event);
        if (subscriptions) matched.set(event, subscriptions);
        deliveries += rows;
        to++;
      }
      if (to > request.committed) pieces.push({ request, from: request.committed, to });
      if (continued || to < request.events.length) break;
    }
    return { pieces, events, matched };
  }

  /**
   * The subscriptions an event matches. Should matching fail, the event counts as none here: the store asks
   * again inside the commit, which then fails as any failed commit does, answering the requests in it.
   */
  private fanOutOf(event: ValidEvent): readonly number[] | undefined {
    try {
      return this.match?.(event) ?? [];
    } catch {
      return undefined;
    }
  }
}
