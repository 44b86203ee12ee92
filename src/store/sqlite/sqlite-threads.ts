import { SqliteThread } from './sqlite-thread.js';

/** Reader threads when the operator names none (HERALD_SQLITE_READERS). */
export const defaultReaderThreads = 2;

/**
 * The threads a process's SQLite connections live on, shared by every store it opens (tests open several;
 * a server one): one for writers, so commits never queue behind reads; readers, as many as asked for; one
 * for checkpoints and pings, so `/ready` answers while the others are busy. Each starts at its first request.
 */
class SqliteThreads {
  readonly writer = new SqliteThread('herald-sqlite-writer');
  readonly maintenance = new SqliteThread('herald-sqlite-maintenance');
  private readonly allReaders: SqliteThread[] = [];

  /** The first `count` reader threads, made as needed. */
  readers(count: number): SqliteThread[] {
    while (this.allReaders.length < count) this.allReaders.push(new SqliteThread(`herald-sqlite-reader-${this.allReaders.length + 1}`));
    return this.allReaders.slice(0, count);
  }
}

export const sqliteThreads = new SqliteThreads();
