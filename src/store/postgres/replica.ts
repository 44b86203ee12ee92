import pg from 'pg';
import { EventRepository } from '../event-repository.js';
import type { LogReader } from '../log-reader.js';
import { RetentionRepository } from '../retention-repository.js';
import type { SqlExecutor } from '../sql-executor.js';
import type { LogPage, LogPageBytes, LogQuery } from '../store.js';
import type { CommitBound } from './bounded-commit.js';
import { postgresDialect } from './dialect.js';
import { bigintsAsNumbers, PostgresLogPages } from './log-pages.js';
import { PostgresPartitions } from './retention.js';

/** How long connecting to a replica may take: a replica that does not answer is passed over, not waited for. */
const connectTimeoutMs = 2_000;

/** The partitions' commit bound on a replica, which takes no writes: one would fail at once. */
const noWrites: CommitBound = { timeoutMs: 0, cancel: () => Promise.resolve() };

/**
 * One read replica (a hot standby of the primary, HERALD_DATABASE_REPLICAS): its own pool, and the log's reads
 * on it. It refuses every write, so nothing here writes; `replica-reads.ts` decides when it is used.
 */
export class Replica implements LogReader {
  /** host:port, as metrics and logs name it (never the URL, which may hold a password). */
  readonly name: string;
  readonly events: EventRepository;
  readonly retention: RetentionRepository;
  private readonly pool: pg.Pool;
  private readonly pages: PostgresLogPages;

  constructor(url: string, poolSize: number) {
    const parsed = new URL(url);
    this.name = `${parsed.hostname}:${parsed.port === '' ? '5432' : parsed.port}`;
    this.pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      statement_timeout: 30_000,
      types: bigintsAsNumbers,
    });
    // As on the primary: a connection dropped by the server must not crash the process; the query fails.
    this.pool.on('error', () => {});
    this.pool.on('connect', (client) => client.on('error', () => {}));
    const executor: SqlExecutor = {
      ...postgresDialect,
      all: async <T>(sql: string, parameters: readonly unknown[]) =>
        (await this.pool.query({ text: sql, values: parameters as unknown[] })).rows as T[],
      atomically: () => Promise.reject(new Error('a read replica takes no writes')),
      durable: () => Promise.reject(new Error('a read replica takes no writes')),
    };
    this.pages = new PostgresLogPages(this.pool);
    this.events = new EventRepository(executor, 'event_keys');
    // Only the marks are read here (removedThrough, removedEventPosition); the partitions are the primary's.
    this.retention = new RetentionRepository(executor, new PostgresPartitions(this.pool, { appendLockKey: 0, commitBound: noWrites }));
  }

  headPosition(): Promise<number> {
    return this.events.head();
  }

  readLog(query: LogQuery): Promise<LogPage> {
    return this.pages.read(query);
  }

  readLogBytes(query: LogQuery): Promise<LogPageBytes> {
    return this.pages.readBytes(query);
  }

  findEventPosition(id: string, source?: string): Promise<number | undefined> {
    return this.events.position(id, source);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
