import type { ValidEvent } from '../domain/cloudevent.js';
import type { Store } from './store.js';

/** How many events one commit may carry; a single larger request still commits whole. */
export const maxEventsPerCommit = 2_000;

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

  constructor(private readonly store: Store) {}

  /** Resolves, once the events are durably stored, with whether each was new. */
  append(events: readonly ValidEvent[]): Promise<boolean[]> {
    if (events.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      // setImmediate lets every request already read from the sockets join the first commit.
      this.committing ??= new Promise((done) => setImmediate(() => this.commitAll().then(done)));
    });
  }

  /** Resolves when everything appended so far has been committed or has failed. */
  async drain(): Promise<void> {
    while (this.committing) await this.committing;
  }

  private async commitAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      try {
        const stored = await this.store.appendEvents(batch.flatMap((p) => p.events));
        let offset = 0;
        for (const pending of batch) {
          pending.resolve(stored.slice(offset, offset + pending.events.length));
          offset += pending.events.length;
        }
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.committing = undefined;
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
