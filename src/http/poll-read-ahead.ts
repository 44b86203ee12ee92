import type { LogPageBytes, LogQuery } from '../store/store.js';

/** How much a process keeps read ahead (docs/poll.md, "Read-ahead"). */
export interface ReadAheadLimits {
  /** Pages kept or being read at once. */
  readonly pages: number;
  /** Bytes of the pages kept, together. */
  readonly bytes: number;
  /** A page not asked for within this long is dropped. */
  readonly keepMs: number;
}

export const defaultReadAheadLimits: ReadAheadLimits = { pages: 16, bytes: 32 * 1024 * 1024, keepMs: 30_000 };

interface Kept {
  readonly page: Promise<LogPageBytes | undefined>;
  readonly until: number;
  bytes: number;
}

/**
 * Pages of the log read before they are asked for: after a poll answers a page, the page its `next` link names
 * is read while the client is busy with this one, so a client following `next` finds it waiting.
 *
 * A page is kept for the consumer that polled and the exact read it would make (position, filters, page size,
 * bound), and is handed out once. Only settled pages are kept: full ones, or ones cut short by the bound. Every
 * row up to where such a page ends has committed (positions are handed out in commit order) and stored events
 * never change, so reading it again later would find the same rows. A page that reached the end of the log is
 * not kept: an event published meanwhile would belong in it. What the kept page cannot know is checked when it
 * is used, as for any read: retention's mark, and which events the caller may read.
 */
export class PollReadAhead {
  private readonly kept = new Map<string, Kept>();
  private bytes = 0;

  constructor(
    private readonly limits: ReadAheadLimits = defaultReadAheadLimits,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Starts reading the page `query` names for `consumer`, unless it is kept already or there is no room. */
  start(consumer: string, query: LogQuery, read: () => Promise<LogPageBytes>): void {
    const key = keyOf(consumer, query);
    this.dropExpired();
    if (this.kept.has(key) || this.kept.size >= this.limits.pages) return;
    const kept: Kept = {
      until: this.clock() + this.limits.keepMs,
      bytes: 0,
      page: read().then(
        (page) => {
          const current = this.kept.get(key) === kept;
          if (!settled(page, query)) {
            if (current) this.drop(key);
            return undefined;
          }
          // Taken while it was being read: the poll waiting for it has it, and nothing is kept.
          if (!current) return page;
          kept.bytes = page.body.byteLength;
          this.bytes += kept.bytes;
          this.makeRoom(key);
          return page;
        },
        // A read ahead that fails costs nothing: the poll that asks for it reads for itself.
        () => {
          if (this.kept.get(key) === kept) this.drop(key);
          return undefined;
        },
      ),
    };
    this.kept.set(key, kept);
  }

  /**
   * The page read ahead for exactly this consumer and read, waiting for it if it is still being read, and
   * forgotten once taken. Undefined when there is none, or it turned out unusable: read it then.
   */
  async take(consumer: string, query: LogQuery): Promise<LogPageBytes | undefined> {
    const key = keyOf(consumer, query);
    const kept = this.kept.get(key);
    if (kept === undefined) return undefined;
    this.drop(key);
    if (kept.until < this.clock()) return undefined;
    return kept.page;
  }

  /** Resolves once no read ahead is running (before the store closes). */
  async idle(): Promise<void> {
    await Promise.all([...this.kept.values()].map((kept) => kept.page));
  }

  /** Pages kept or being read, and their payload bytes (for tests and metrics). */
  size(): { pages: number; bytes: number } {
    return { pages: this.kept.size, bytes: this.bytes };
  }

  private drop(key: string): void {
    const kept = this.kept.get(key);
    if (kept === undefined) return;
    this.kept.delete(key);
    this.bytes -= kept.bytes;
  }

  private dropExpired(): void {
    const now = this.clock();
    for (const [key, kept] of this.kept) if (kept.until < now) this.drop(key);
  }

  /** Drops the oldest pages until the bytes fit, the newest one (`key`) too if it alone is too large. */
  private makeRoom(key: string): void {
    for (const oldest of this.kept.keys()) {
      if (this.bytes <= this.limits.bytes) return;
      if (oldest !== key) this.drop(oldest);
    }
    if (this.bytes > this.limits.bytes) this.drop(key);
  }
}

/** Full, or cut short by the bound: reading it again would find the same rows. */
function settled(page: LogPageBytes, query: LogQuery): boolean {
  return page.seqs.length === query.limit || page.examinedThrough !== undefined;
}

/** Everything that decides what a read answers, and who it is for. */
function keyOf(consumer: string, query: LogQuery): string {
  return JSON.stringify([
    consumer,
    query.afterSeq,
    query.resource ?? null,
    query.source ?? null,
    query.types ?? [],
    query.subject ?? null,
    query.alternativesubject ?? null,
    query.limit,
    query.examineAtMost ?? null,
  ]);
}
