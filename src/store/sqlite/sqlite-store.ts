import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ValidEvent } from '../../domain/cloudevent.js';
import { EndpointHealthRepository } from '../endpoint-health-repository.js';
import { DeliveryRepository } from '../delivery-repository.js';
import { EventRepository } from '../event-repository.js';
import { PullRepository } from '../pull-repository.js';
import { RetentionRepository } from '../retention-repository.js';
import { buildExaminationEnd, buildLogQuery, type SqlStatement } from '../log-query-sql.js';
import type { SqlExecutor } from '../sql-executor.js';
import { sqliteDialect } from './dialect.js';
import { migrateSqlite } from './migration-target.js';
import { sqliteRetention } from './retention.js';
import { type FileSync, WalSync } from './wal-sync.js';
import type { DeliveryTask } from '../records.js';
import {
  type DeliveryClaim,
  type LoggedEvent,
  type LogPage,
  type LogQuery,
  type Store,
  type StoreListener,
  type StoreTopic,
  type SubscriptionMatcher,
} from '../store.js';
import { SubscriptionRepository } from '../subscription-repository.js';

const maxCachedStatements = 256;
/** How often a watched store looks for commits by other processes (an operator command). */
const otherConnectionsPollMs = 250;

interface AppendOutcome {
  readonly stored: boolean[];
  /** New deliveries left for whichever reader or dispatcher comes next. */
  readonly unclaimed: number;
  readonly claimed: DeliveryTask[];
}

/**
 * The embedded engine: one SQLite file in WAL mode with `synchronous=FULL`, so a commit is on disk before
 * Herald answers. better-sqlite3 is synchronous; one connection serves reads and the single writer.
 */
export class SqliteStore implements Store {
  readonly engine = 'sqlite';
  readonly subscriptions: SubscriptionRepository;
  readonly deliveries: DeliveryRepository;
  readonly health: EndpointHealthRepository;
  readonly pull: PullRepository;
  readonly events: EventRepository;
  readonly retention: RetentionRepository;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly insertEvent: Database.Statement;
  private readonly insertDelivery: Database.Statement;
  private readonly appendInTransaction: (
    events: readonly ValidEvent[],
    match: SubscriptionMatcher | undefined,
    claim: DeliveryClaim | undefined,
  ) => AppendOutcome;
  /** Announcements to this process's listeners (see `watchOtherConnections` for other processes' writes). */
  private readonly announcements = new EventEmitter();
  private otherConnections: NodeJS.Timeout | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly wal: WalSync | undefined,
  ) {
    // Every long-polling read listens while it waits: there is no sensible bound.
    this.announcements.setMaxListeners(0);
    this.insertEvent = db.prepare(
      `INSERT INTO events (id, source, type, resource, subject, alternativesubject, time, registered_at, payload)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, id) DO NOTHING`,
    );
    this.insertDelivery = db.prepare(
      // Only for a subscription still receiving in the database (an inactive pull subscription's queue keeps
      // filling): an index a moment stale must not fail a publish. Pull rows are never due for the dispatcher.
      // A claimed row (see DeliveryClaim) is written leased to the publishing process, if it is a push delivery
      // the dispatcher may send now: the subscription is active with an endpoint.
      `INSERT INTO deliveries (subscription_id, event_seq, status, next_attempt_at, created_at, lease_owner, lease_until)
       SELECT id, $seq, 'pending', CASE WHEN endpoint IS NULL THEN NULL ELSE $now END, $now,
         CASE WHEN endpoint IS NOT NULL AND status = 'active' THEN $owner END,
         CASE WHEN endpoint IS NOT NULL AND status = 'active' AND $owner IS NOT NULL THEN $leaseUntil END
       FROM subscriptions WHERE id = $subscription AND status IN ('active', 'inactive')
       RETURNING id, lease_owner IS NOT NULL AS claimed`,
    );
    this.appendInTransaction = db.transaction(
      (events: readonly ValidEvent[], match: SubscriptionMatcher | undefined, claim: DeliveryClaim | undefined) => {
        const now = Date.now();
        let unclaimed = 0;
        const claimed: DeliveryTask[] = [];
        const stored = events.map((e) => {
          const inserted = this.insertEvent.run(
            e.id, e.source, e.type, e.resource, e.subject, e.alternativesubject, e.time, now, e.payload,
          );
          if (inserted.changes !== 1) return false;
          for (const subscriptionId of match?.(e) ?? []) {
            const owner = claim?.wants(subscriptionId) ? claim.owner : null;
            const row = this.insertDelivery.get({
              seq: inserted.lastInsertRowid,
              now,
              owner,
              leaseUntil: claim?.leaseUntil ?? null,
              subscription: subscriptionId,
            }) as { id: number; claimed: number } | undefined;
            if (row?.claimed) claimed.push({ id: row.id, subscriptionId, attempts: 0, payload: e.payload });
            else if (row) unclaimed++;
          }
          return true;
        });
        return { stored, unclaimed, claimed };
      },
    );
    const executor = this.executor();
    this.subscriptions = new SubscriptionRepository(executor, async (ids) => this.announce('subscriptions', ids));
    this.deliveries = new DeliveryRepository(executor, async () => this.announce('deliveries'));
    this.health = new EndpointHealthRepository(executor, async (ids) => this.announce('subscriptions', ids));
    this.pull = new PullRepository(executor, async (ids) => this.announce('subscriptions', ids));
    this.events = new EventRepository(executor);
    this.retention = new RetentionRepository(executor, sqliteRetention(executor));
  }

  /** Opens (creating if need be) the database file and brings its schema up to date. */
  static async open(path: string, options: { fileSync?: FileSync } = {}): Promise<SqliteStore> {
    let db: Database.Database;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
    } catch (error) {
      throw new Error(`Cannot open the SQLite database at ${path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      await migrateSqlite(db);
      if (path === ':memory:') return new SqliteStore(db, undefined);
      // From here on each commit is made durable by WalSync, off the main thread, before it is acknowledged.
      db.pragma('synchronous = NORMAL');
      return new SqliteStore(db, new WalSync(`${path}-wal`, options.fileSync));
    } catch (error) {
      db.close();
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
    }
  }

  async appendEvents(events: readonly ValidEvent[], match?: SubscriptionMatcher, claim?: DeliveryClaim): Promise<boolean[]> {
    const { stored, unclaimed, claimed } = this.appendInTransaction(events, match, claim);
    // Nothing is sent or answered before the commit is on disk. Should the flush fail, the claimed deliveries
    // stay leased and are taken up again when their lease lapses.
    await this.durable();
    if (claimed.length > 0) claim?.handOff(claimed);
    // Claimed deliveries are already on their way; the dispatcher (and pull readers) wake only for the rest.
    if (unclaimed > 0) this.announce('deliveries');
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
   * SQLite cannot notify, but its `data_version` changes whenever another connection commits (never for this
   * one's own writes), so a cheap look four times a second turns those changes into announcements.
   */
  private watchOtherConnections(): void {
    if (this.otherConnections || !this.db.open) return;
    let seen = this.dataVersion();
    this.otherConnections = setInterval(() => {
      if (!this.db.open) return this.stopWatchingOtherConnections();
      const now = this.dataVersion();
      if (now === seen) return;
      seen = now;
      this.announce('subscriptions');
      this.announce('deliveries');
    }, otherConnectionsPollMs);
    this.otherConnections.unref();
  }

  private stopWatchingOtherConnections(): void {
    clearInterval(this.otherConnections);
    this.otherConnections = undefined;
  }

  private dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  private announce(topic: StoreTopic, subscriptionIds?: readonly number[]): void {
    this.announcements.emit('topic', topic, subscriptionIds);
  }

  /** Runs the shared queries: `$n` placeholders bind by name, lists travel as JSON (see sqliteDialect). */
  private executor(): SqlExecutor {
    return {
      ...sqliteDialect,
      all: async <T>(sql: string, parameters: readonly unknown[]) => {
        const statement = this.statement(sql);
        const named = Object.fromEntries(
          parameters.map((value, index) => [index + 1, Array.isArray(value) ? JSON.stringify(value) : value]),
        );
        const args = parameters.length > 0 ? [named] : [];
        if (statement.readonly) return statement.all(...args) as T[];
        // A write (with RETURNING, `reader` too) is answered once durable. One that changed nothing (a lease
        // finding nothing due) has nothing to make durable, and does not wait for a flush of others' writes.
        if (statement.reader) {
          const rows = statement.all(...args) as T[];
          if (rows.length > 0) await this.durable();
          return rows;
        }
        if (statement.run(...args).changes > 0) await this.durable();
        return [];
      },
    };
  }

  async readLog(query: LogQuery): Promise<LogPage> {
    // Where the bounded read ends, then the read up to there: one writer, so nothing commits in between.
    const end =
      query.examineAtMost === undefined
        ? undefined
        : this.run<{ seq: number | null }>(buildExaminationEnd(query, sqliteDialect, query.examineAtMost))[0]?.seq ?? undefined;
    return { events: this.run<LoggedEvent>(buildLogQuery(query, sqliteDialect, end)), examinedThrough: end };
  }

  async readEvents(query: LogQuery): Promise<LoggedEvent[]> {
    return (await this.readLog(query)).events;
  }

  private run<Row>({ sql, parameters }: SqlStatement): Row[] {
    return this.statement(sql).all(...parameters) as Row[];
  }

  findEventPosition(id: string, source?: string): Promise<number | undefined> {
    return this.events.position(id, source);
  }

  headPosition(): Promise<number> {
    return this.events.head();
  }

  async ping(): Promise<void> {
    this.statement('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.stopWatchingOtherConnections();
    if (this.db.open) this.db.close();
    this.wal?.close();
  }

  private durable(): Promise<void> {
    return this.wal ? this.wal.sync() : Promise.resolve();
  }

  /** Prepared statements are cached by their text: each filter combination is prepared once. */
  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      // Bounded: repeated `type` parameters could otherwise grow the cache without limit.
      if (this.statements.size >= maxCachedStatements) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
