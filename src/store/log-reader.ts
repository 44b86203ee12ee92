import type { EventRepository } from './event-repository.js';
import type { RetentionRepository } from './retention-repository.js';
import type { LogPage, LogPageBytes, LogQuery, Store } from './store.js';

/**
 * What polls and event streams read: the log, its head, cursors' positions and the retention mark. A `Store`
 * is one (its primary); with read replicas, a `ReplicaReader` is (replica-reader.ts), whose reads all go to one
 * server that has everything the reader was promised.
 */
export interface LogReader {
  /**
   * The newest committed position. `atLeast`: the caller will read after this position (a cursor), so the
   * answer must come from a server that has it if any does (a replica waits for it or gives way to the
   * primary); below it only when the primary itself has nothing that far. A store ignores it: it is the primary.
   */
  headPosition(atLeast?: number): Promise<number>;
  readLog(query: LogQuery): Promise<LogPage>;
  readLogBytes(query: LogQuery): Promise<LogPageBytes>;
  findEventPosition(id: string, source?: string): Promise<number | undefined>;
  readonly events: Pick<EventRepository, 'attributes'>;
  readonly retention: Pick<RetentionRepository, 'removedThrough' | 'removedEventPosition'>;
}

/** What a request reads through: one `LogReader` per poll or stream. */
export interface LogReads {
  /**
   * A reader for one poll (`follows: false`) or one event stream (`follows: true`: woken by the primary's
   * announcements of commits, it must read at least as far as they reached).
   */
  reader(follows: boolean): LogReader;
}

/** Every read on the store itself: what Herald does without read replicas. */
export function primaryReads(store: Store): LogReads {
  return { reader: () => store };
}
