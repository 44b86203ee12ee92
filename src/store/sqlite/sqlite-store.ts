import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ValidEvent } from '../../domain/cloudevent.js';
import { AttemptRepository } from '../attempt-repository.js';
import { EndpointHealthRepository } from '../endpoint-health-repository.js';
import { DeliveryRepository } from '../delivery-repository.js';
import { EventRepository } from '../event-repository.js';
import { planFanOut } from '../fan-out-plan.js';
import { PullRepository } from '../pull-repository.js';
import { ReplayRepository } from '../replay-repository.js';
import { RetentionRepository } from '../retention-repository.js';
import type { SqlExecutor } from '../sql-executor.js';
import { Checkpoints } from './checkpoints.js';
import { sqliteDialect } from './dialect.js';
import { migrateSqlite } from './migration-target.js';
import { sqliteRetention } from './retention.js';
import { SqliteConnections } from './sqlite-connections.js';
import { defaultReaderThreads } from './sqlite-threads.js';
import type { AppendResult, AtomicResult, EventRow } from './thread-protocol.js';
import { type FileSync, WalSync } from './wal-sync.js';
import type { DeliveryTask } from '../records.js';
import {
  type DeliveryClaim,
  type LoggedEvent,
  type LogPage,
  type LogPageBytes,
  type LogQuery,
  type Store,
  type StoreListener,
  type StoreTopic,
  type SubscriptionMatcher,
} from '../store.js';
import { SubscriptionRepository } from '../subscription-repository.js';

/** How often a watched store looks for commits by other processes (an operator command). */
const otherConnectionsPollMs = 250;

export interface SqliteStoreOptions {
  /** How the write-ahead log is flushed (tests inject failures). */
  readonly fileSync?: FileSync;
  /** Reader threads (HERALD_SQLITE_READERS); 0 reads on the writer's thread. */
  readonly readers?: number;
}

/**
 * The embedded engine: one SQLite file in WAL mode, a commit on disk before Herald answers. Its connections
 * live on worker threads (docs/storage.md, "Threads"): one writer, readers that WAL lets read beside it, and
 * one that checkpoints; the event loop only sends them statements, so nothing SQLite does blocks a request.
 */
export class SqliteStore implements Store {
  readonly engine = 'sqlite';
  readonly subscriptions: SubscriptionRepository;
  readonly deliveries: DeliveryRepository;
  readonly attempts: AttemptRepository;
  readonly health: EndpointHealthRepository;
  readonly pull: PullRepository;
  readonly events: EventRepository;
  readonly replays: ReplayRepository;
  readonly retention: RetentionRepository;
  /** Announcements to this process's listeners (see `watchOtherConnections` for other processes' writes). */
  private readonly announcements = new EventEmitter();
  private otherConnections: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly connections: SqliteConnections,
    private readonly wal: WalSync | undefined,
    private readonly checkpoints: Checkpoints | undefined,
    /** The writer's `data_version` when last looked at: from the open on, so no commit goes unseen. */
    private dataVersionSeen: number,
  ) {
    // Every long-polling read listens while it waits: there is no sensible bound.
    this.announcements.setMaxListeners(0);
    const executor = this.executor();
    this.subscriptions = new SubscriptionRepository(executor, async (ids) => this.announce('subscriptions', ids));
    this.deliveries = new DeliveryRepository(executor, async () => this.announce('deliveries'));
    this.attempts = new AttemptRepository(executor);
    this.health = new EndpointHealthRepository(executor, async (ids) => this.announce('subscriptions', ids));
    this.pull = new PullRepository(executor, async (ids) => this.announce('subscriptions', ids));
    this.events = new EventRepository(executor);
    this.replays = new ReplayRepository(executor, async () => this.announce('deliveries'));
    this.retention = new RetentionRepository(executor, sqliteRetention(executor));
  }

  /** Opens (creating if need be) the database file, brings its schema up to date, and starts its threads. */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    await prepareDatabase(path);
    const memory = path === ':memory:';
    // An in-memory database lives in one connection: everything then runs on the writer's.
    const connections = await SqliteConnections.open(path, memory ? 0 : (options.readers ?? defaultReaderThreads), !memory);
    const dataVersion = await connections.write<number>({ op: 'dataVersion' });
    if (memory) return new SqliteStore(connections, undefined, undefined, dataVersion);
    // Each commit is made durable by WalSync, off the main thread, before it is acknowledged.
    const wal = new WalSync(`${path}-wal`, options.fileSync);
    return new SqliteStore(connections, wal, new Checkpoints(connections), dataVersion);
  }

  async appendEvents(events: readonly ValidEvent[], match?: SubscriptionMatcher, claim?: DeliveryClaim): Promise<boolean[]> {
    const deliveries = planFanOut(events, match, claim);
    const rows = events.map(
      (e): EventRow => [e.id, e.source, e.type, e.resource ?? null, e.subject ?? null, e.alternativesubject ?? null, e.time ?? null, e.payload],
    );
    const { stored, claimed, unclaimed } = await this.connections.write<AppendResult>({
      op: 'append',
      events: rows,
      deliveries,
      now: Date.now(),
      owner: claim?.owner ?? null,
      leaseUntil: claim?.leaseUntil ?? null,
    });
    this.checkpoints?.written();
    // Nothing is sent or answered before the commit is on disk. Should the flush fail, the claimed deliveries
    // stay leased and are taken up again when their lease lapses.
    await this.durable();
    if (claimed.length > 0) {
      claim?.handOff(
        claimed.map(([id, subscriptionId, eventIndex]): DeliveryTask => ({ id, subscriptionId, attempts: 0, payload: events[eventIndex]?.payload ?? '' })),
      );
    }
    // Claimed deliveries are already on their way; the dispatcher (and pull readers) wake only for the rest.
    if (unclaimed > 0) this.announce('deliveries');
    // Event streams follow the log: they wake for any new event, whether or not a subscription matched it.
    if (stored.includes(true)) this.announce('events');
    return stored;
  }

  watch(listener: StoreListener): () => void {
    this.announcements.on('topic', listener);
    this.watchOtherConnections();
    return () => {
      this.announcements.off('topic', listener);
      if (this.announcements.listenerCount('topic') === 0) this.stopWatchingOtherConnections();
    };
  }

  /**
   * Another process may write the file too: an operator's `herald subscriptions disable|enable|redrive`.
   * SQLite cannot notify, but its `data_version` changes whenever another connection commits (never for the
   * writer's own), so a cheap look four times a second turns those changes into announcements.
   */
  private watchOtherConnections(): void {
    if (this.otherConnections || this.closed) return;
    let looking = false;
    this.otherConnections = setInterval(() => {
      if (looking || this.closed) return;
      looking = true;
      this.connections
        .write<number>({ op: 'dataVersion' })
        .then((now) => {
          if (now === this.dataVersionSeen) return;
          this.dataVersionSeen = now;
          this.announce('subscriptions');
          this.announce('deliveries');
          this.announce('events');
        })
        .catch(() => {})
        .finally(() => (looking = false));
    }, otherConnectionsPollMs);
    this.otherConnections.unref();
  }

  private stopWatchingOtherConnections(): void {
    clearInterval(this.otherConnections);
    this.otherConnections = undefined;
  }

  private announce(topic: StoreTopic, subscriptionIds?: readonly number[]): void {
    this.announcements.emit('topic', topic, subscriptionIds);
  }

  /** Runs the shared queries: `$n` placeholders bind by name, lists travel as JSON (see sqliteDialect). */
  private executor(): SqlExecutor {
    const named = (parameters: readonly unknown[]) =>
      Object.fromEntries(parameters.map((value, index) => [index + 1, Array.isArray(value) ? JSON.stringify(value) : value]));
    return {
      ...sqliteDialect,
      atomically: async (statements) => {
        // On the writer, as one message: no other request's statement can land inside the transaction.
        const { rows, wrote } = await this.connections.write<AtomicResult>({
          op: 'atomically',
          statements: statements.map(({ sql, parameters, guard }) => ({ sql, parameters: named(parameters), guard: guard ?? false })),
        });
        if (wrote) {
          this.checkpoints?.written();
          await this.durable();
        }
        return rows ?? undefined;
      },
      all: async <T>(sql: string, parameters: readonly unknown[]) => {
        const { rows, wrote } = await this.connections.statement(sql, named(parameters));
        // A write is answered once durable. One that changed nothing (a lease finding nothing due) has nothing
        // to make durable, and does not wait for a flush of others' writes.
        if (wrote) {
          this.checkpoints?.written();
          await this.durable();
        }
        return rows as T[];
      },
    };
  }

  /** The bound's end and the page up to there are read in one snapshot, on a reader thread. */
  readLog(query: LogQuery): Promise<LogPage> {
    return this.connections.read<LogPage>({ op: 'readLog', query });
  }

  /** The reader thread makes the bytes and hands them over without a copy. */
  readLogBytes(query: LogQuery): Promise<LogPageBytes> {
    return this.connections.read<LogPageBytes>({ op: 'readLogBytes', query });
  }

  async readEvents(query: LogQuery): Promise<LoggedEvent[]> {
    return (await this.readLog(query)).events;
  }

  findEventPosition(id: string, source?: string): Promise<number | undefined> {
    return this.events.position(id, source);
  }

  headPosition(): Promise<number> {
    return this.events.head();
  }

  /** On the maintenance thread: busy readers and a long commit do not make the database look down. */
  async ping(): Promise<void> {
    await this.connections.maintain({ op: 'all', sql: 'SELECT 1', parameters: {} });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopWatchingOtherConnections();
    await this.checkpoints?.stop();
    await this.connections.close();
    this.wal?.close();
  }

  private durable(): Promise<void> {
    return this.wal ? this.wal.sync() : Promise.resolve();
  }
}

/**
 * Creates the file if need be, puts it in WAL mode and applies every migration it lacks, on a connection of
 * its own closed before the threads open theirs. Errors name the file and say what to do.
 */
async function prepareDatabase(path: string): Promise<void> {
  let db: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
  } catch (error) {
    throw new Error(`Cannot open the SQLite database at ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    // An in-memory database is one connection's: the writer's thread migrates it.
    if (path === ':memory:') return;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    await migrateSqlite(db);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code === 'SQLITE_NOTADB') {
      // Nothing has been written to it: SQLite refuses the file at its first read.
      throw new Error(
        `The file at ${path} is not a SQLite database (${code}). HERALD_DATABASE must name Herald's database ` +
          'file, or a path where no file exists yet (Herald creates it), or a postgres:// URL; Herald left ' +
          'the file as it was.',
        { cause: error },
      );
    }
    if (/^SQLITE_(READONLY|CANTOPEN|FULL|IOERR)/.test(code)) {
      throw new Error(
        `Cannot write the SQLite database at ${path} (${code}): is its folder read-only or its disk full?`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    db.close();
  }
}
