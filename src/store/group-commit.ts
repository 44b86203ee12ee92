import type { ValidEvent } from '../domain/cloudevent.js';
import { isRefusedByStore } from './store-errors.js';
import type { DeliveryClaim, Store, SubscriptionMatcher } from './store.js';

/** How many events one commit may carry; a single larger request still commits whole. */
export const maxEventsPerCommit = 2_000;

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

interface PendingAppend {
  readonly events: readonly ValidEvent[];
  resolve(stored: boolean[]): void;
  reject(error: unknown): void;
}

/**
 * Group commit: publishes that arrive while a commit is under way are written together in the next one, so
 * the cost of making a transaction durable is shared. Nothing waits on a timer: an idle appender commits at
 * once, and batches grow only as load does. Each caller is answered when its own transaction commits, and a
 * failed commit fails only the requests that were in it.
 */
export class GroupCommitAppender {
  private queue: PendingAppend[] = [];
  private committing: Promise<void> | undefined;

  /** @param match names the subscriptions each new event is delivered to (fan-out in the same commit) */
  constructor(
    private readonly store: Store,
    private readonly match?: SubscriptionMatcher,
    private readonly observer?: CommitObserver,
    /** This process's dispatcher, offering to take new deliveries on at commit (see DeliveryClaim). */
    private readonly claim?: () => DeliveryClaim | undefined,
  ) {}

  /** Resolves, once the events are durably stored, with whether each was new. */
  append(events: readonly ValidEvent[]): Promise<boolean[]> {
    if (events.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      // setImmediate lets every request already read from the sockets join the first commit.
      this.committing ??= new Promise((done) => setImmediate(() => this.commitAll().finally(done)));
    });
  }

  /** Resolves when everything appended so far has been committed or has failed. */
  async drain(): Promise<void> {
    while (this.committing) await this.committing;
  }

  private async commitAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      const events = batch.flatMap((p) => p.events);
      try {
        this.settle(batch, await this.store.appendEvents(events, this.match, this.claim?.()));
        this.observer?.committed(events.length);
      } catch (error) {
        this.observer?.failed(error);
        // Alone, each request gets one more try: a conflict the shared commit met (a subscription deleted at
        // that moment, say) is gone on the retry, and a request the database refuses fails by itself.
        await this.commitOneByOne(batch);
      }
    }
    this.committing = undefined;
  }

  /**
   * After a shared commit failed, each request is retried alone, so one the database refuses cannot fail the
   * others. When the database itself is down, consecutive failures end the retries early; refusals say
   * nothing about the store's health (any number of hostile requests may come together), so they do not count.
   */
  private async commitOneByOne(batch: readonly PendingAppend[]): Promise<void> {
    let failuresInARow = 0;
    for (const pending of batch) {
      if (failuresInARow >= maxFailuresInARow) {
        pending.reject(new Error('the store is failing; not retried'));
        continue;
      }
      try {
        pending.resolve(await this.store.appendEvents(pending.events, this.match, this.claim?.()));
        this.observer?.committed(pending.events.length);
        failuresInARow = 0;
      } catch (error) {
        this.observer?.failed(error);
        pending.reject(error);
        if (!isRefusedByStore(error)) failuresInARow++;
      }
    }
  }

  private settle(batch: readonly PendingAppend[], stored: readonly boolean[]): void {
    let offset = 0;
    for (const pending of batch) {
      pending.resolve(stored.slice(offset, offset + pending.events.length));
      offset += pending.events.length;
    }
  }

  private takeBatch(): PendingAppend[] {
    let count = 0;
    let taken = 0;
    while (taken < this.queue.length) {
      const size = this.queue[taken]?.events.length ?? 0;
      if (taken > 0 && count + size > maxEventsPerCommit) break;
      count += size;
      taken++;
    }
    return this.queue.splice(0, taken);
  }
}
