import { Readable } from 'node:stream';
import type { Authorizer } from '../domain/policy.js';
import type { LogQuery, Store } from '../store/store.js';
import { readableEvents } from './readable-events.js';
import { eventMessage, heartbeatComment, openComment } from './server-sent-events.js';

/** What a stream reports while it runs: metrics, and tests that watch it. */
export interface LogStreamObserver {
  /** Events were sent (queued for the socket). */
  sent?(events: number): void;
  /** The stream stopped reading the log because its client does not read (`true`), or reads again (`false`). */
  blocked?(blocked: boolean): void;
}

export interface LogStreamOptions {
  readonly store: Store;
  readonly authorizer: Authorizer;
  readonly consumer: string;
  /** Every read: the filters, the page size and the examine bound; `afterSeq` is where the stream stands. */
  readonly query: LogQuery;
  /** How often a heartbeat comment is sent, and the log read again should a notice have been lost. */
  readonly heartbeatMs: number;
  readonly observer?: LogStreamObserver | undefined;
}

/**
 * The log after a position as Server-Sent Events: reads a bounded page, sends the events the consumer may
 * read, and reads on while there is more; at the end of the log it waits for the store's announcement of a
 * commit (any process's, on PostgreSQL) or the next heartbeat. It reads only when the response wants more
 * (`_read`): a client that stops reading stops the reads, and at most one page waits beyond the socket's buffer.
 */
export class LogStream extends Readable {
  /** Where the stream stands: the position of the last event sent or the last row examined. */
  private position: number;
  /** The response asked for more and has not been told to wait since. */
  private wanted = false;
  private following = false;
  /** Stopped reading the log until the client reads what was sent. */
  private blocked = false;
  /** Something may have been committed since the last read began. */
  private announced = false;
  private wake: (() => void) | undefined;
  private readonly stopWatching: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private finishing: NodeJS.Timeout | undefined;

  constructor(private readonly options: LogStreamOptions) {
    super();
    this.position = options.query.afterSeq;
    // Watching starts before the first read: a commit while it is on its way is not missed.
    this.stopWatching = options.store.watch((topic) => {
      if (topic === 'events') this.rouse();
    });
    this.heartbeat = setInterval(() => {
      // A client that is not reading has nothing to keep alive: nothing is added to what it has not read.
      if (this.finishing) return;
      if (this.readableLength < this.readableHighWaterMark) this.push(heartbeatComment);
      this.rouse();
      void this.checkRetention();
    }, options.heartbeatMs);
    this.push(openComment);
  }

  /**
   * Ends the stream: what is queued is still sent, then the response ends. A client that does not take it
   * within `graceMs` is cut off, so a server closing is never held up by a stalled reader.
   */
  finish(graceMs: number): void {
    if (this.destroyed || this.finishing) return;
    this.push(null);
    this.finishing = setTimeout(() => this.destroy(), graceMs);
    this.finishing.unref();
    this.rouse();
  }

  override _read(): void {
    this.block(false);
    this.wanted = true;
    void this.follow();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.stopWatching();
    this.block(false);
    clearInterval(this.heartbeat);
    clearTimeout(this.finishing);
    this.rouse();
    callback(error);
  }

  /** Reports a change of whether the stream waits for its client, once per change. */
  private block(blocked: boolean): void {
    if (blocked === this.blocked) return;
    this.blocked = blocked;
    this.options.observer?.blocked?.(blocked);
  }

  private rouse(): void {
    this.announced = true;
    this.wake?.();
  }

  private async follow(): Promise<void> {
    if (this.following) return;
    this.following = true;
    try {
      while (this.wanted && !this.destroyed && !this.readableEnded && !this.finishing) {
        this.announced = false;
        const more = await this.readPage();
        if (!this.wanted) this.block(true);
        if (more || !this.wanted) continue;
        await this.announcement();
      }
    } catch (error) {
      // The store failed: the response ends abruptly, and the client reconnects with Last-Event-ID.
      this.destroy(error as Error);
    } finally {
      this.following = false;
    }
  }

  /**
   * Reads the next page after the position and sends what the consumer may read of it.
   * @returns whether more of the log is there to read at once
   */
  private async readPage(): Promise<boolean> {
    const { store, authorizer, consumer, query } = this.options;
    // As a poll does: every event up to the head has committed, so a page that is not full holds every match up
    // to it, and the position can move there without examining those rows again at the next commit.
    const head = await store.headPosition();
    const page = await store.readLog({ ...query, afterSeq: this.position });
    const shown = await readableEvents(store, authorizer, consumer, page.events);
    if (this.destroyed || this.finishing) return false;
    for (const event of shown) {
      if (!this.push(eventMessage(event.seq, event.payload))) this.wanted = false;
    }
    if (shown.length > 0) this.options.observer?.sent?.(shown.length);
    const full = page.events.length === query.limit;
    const last = page.events.at(-1)?.seq ?? this.position;
    // Events the consumer may not read are passed silently, as a poll passes them.
    this.position = full ? last : (page.examinedThrough ?? Math.max(last, head));
    return full || page.examinedThrough !== undefined;
  }

  /**
   * Ends the stream if retention removed events it has not sent (a client that did not read for the retention
   * period): the client's reconnect is then answered `410`, as a poll's would be, rather than the stream
   * passing over what is gone without a word.
   */
  private async checkRetention(): Promise<void> {
    const removedThrough = await this.options.store.retention.removedThrough().catch(() => 0);
    if (this.position < removedThrough) this.finish(0);
  }

  /** Resolves at the next announcement, heartbeat or end; at once if one came during the last read. */
  private announcement(): Promise<void> {
    if (this.announced || this.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    });
  }
}
