import pg from 'pg';
import type { ValidEvent } from '../../domain/cloudevent.js';
import { DispatcherHoldings } from '../dispatcher-holdings.js';
import { AttemptRepository } from '../attempt-repository.js';
import { EndpointHealthRepository } from '../endpoint-health-repository.js';
import { DeliveryRepository } from '../delivery-repository.js';
import { EventRepository } from '../event-repository.js';
import { ReadSlots } from '../read-slots.js';
import { planFanOut } from '../fan-out-plan.js';
import { PullRepository } from '../pull-repository.js';
import { ReplayRepository } from '../replay-repository.js';
import { RetentionRepository } from '../retention-repository.js';
import { databaseHosts } from '../database-url.js';
import type { DeliveryTask } from '../records.js';
import type { SqlExecutor } from '../sql-executor.js';
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
import { atomically } from './atomic-write.js';
import { type CommitBound, commitWithin } from './bounded-commit.js';
import { postgresDialect } from './dialect.js';
import { migratePostgres } from './migration-target.js';
import { bigintsAsNumbers, PostgresLogPages } from './log-pages.js';
import { channels, PostgresNotifications } from './notifications.js';
import { PartitionStatistics } from './partition-statistics.js';
import { PrimaryHost } from './primary-host.js';
import { PostgresPartitions } from './retention.js';
import { onlyReads } from './write-statements.js';

/** The advisory lock key that serializes appends, so seq order is commit order (migrations use 4_841_002). */
const appendLockKey = 4_841_001;

/**
 * One row of herald_append_claimed's answer (migration 009): a stored event, a delivery claimed for this
 * process, or the summary of every delivery written (the newest id, how many, how many left unclaimed).
 */
type AppendedRow =
  | { eventN: number; seq: number; deliveryId: null; subscriptionId: null; written: null; unclaimed: null }
  | { eventN: null; seq: number; deliveryId: number; subscriptionId: number; written: null; unclaimed: null }
  | { eventN: null; seq: null; deliveryId: number; subscriptionId: null; written: number; unclaimed: number };

const appendStatement = `SELECT event_n AS "eventN", seq, delivery_id AS "deliveryId", subscription_id AS "subscriptionId", written, unclaimed
  FROM herald_append_claimed($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`;

/** Records outcomes and moves ordered keys on in one transaction (013_ordered_delivery.sql). */
const settleStatement = 'SELECT id, ordered FROM herald_settle($1, $2::jsonb)';

export interface PostgresStoreOptions {
  /** HERALD_DATABASE: one host, or several in libpq's multi-host form (the one accepting writes is used). */
  readonly connectionString: string;
  readonly maxConnections?: number;
  /**
   * How long a write (a publish, and every other) waits for its commit to be acknowledged
   * (HERALD_COMMIT_TIMEOUT) before answering 503: with a synchronous standby down, PostgreSQL would wait
   * forever (bounded-commit.ts).
   */
  readonly commitTimeoutMs?: number;
  /** Runs inside the append transaction just before COMMIT. Tests use it to hold a transaction open. */
  readonly beforeCommit?: () => Promise<void>;
}

/**
 * The PostgreSQL engine: several Herald processes may share one database. Appends take a transaction-level
 * advisory lock before drawing sequence numbers, so numbers are committed in order and a poller that has
 * passed a position can never find an older one committing behind it.
 */
export class PostgresStore implements Store {
  readonly engine = 'postgres';
  readonly subscriptions: SubscriptionRepository;
  readonly deliveries: DeliveryRepository;
  readonly attempts: AttemptRepository;
  readonly health: EndpointHealthRepository;
  readonly holdings: DispatcherHoldings;
  readonly pull: PullRepository;
  readonly events: EventRepository;
  readonly replays: ReplayRepository;
  readonly retention: RetentionRepository;
  /** Refreshes the statistics of the partitions this process writes (partition-statistics.ts). */
  private readonly statistics: PartitionStatistics;
  private readonly notifications: PostgresNotifications;
  private readonly logReads: ReadSlots;
  private readonly logPages: PostgresLogPages;
  /** A NOTIFY of new events is on its way; `commitNoticeAgain`: another commit wants one after it. */
  private commitNoticeSending = false;
  private commitNoticeAgain = false;
  /** HERALD_COMMIT_TIMEOUT, and how a write still running then is cancelled. */
  private readonly commitBound: CommitBound;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: PostgresStoreOptions,
    private readonly primary: PrimaryHost,
  ) {
    this.commitBound = { timeoutMs: options.commitTimeoutMs ?? defaultCommitTimeoutMs, cancel: (client) => this.primary.cancel(client) };
    this.notifications = new PostgresNotifications(() => new primary.Client({ connectionString: primary.connectionString, connectionTimeoutMillis: connectTimeoutMs }));
    this.statistics = new PartitionStatistics(pool);
    this.logPages = new PostgresLogPages(pool);
    this.logReads = new ReadSlots(Math.max(1, Math.floor(poolSize(options) / 2)));
    const executor: SqlExecutor = {
      ...postgresDialect,
      // A write of one statement is its own transaction: its commit is bounded as a publish's.
      all: async <T>(sql: string, parameters: readonly unknown[]) =>
        onlyReads(sql)
          ? ((await pool.query({ text: sql, values: parameters as unknown[] })).rows as T[])
          : ((await commitWithin(pool, { text: sql, values: parameters as unknown[] }, this.commitBound)) as T[]),
      atomically: (statements) => atomically(pool, appendLockKey, statements, this.commitBound),
      durable: () => this.repeatsReplicated(),
    };
    this.subscriptions = new SubscriptionRepository(executor, (ids) => this.announce('subscriptions', ids));
    this.deliveries = new DeliveryRepository(executor, () => this.announce('deliveries'), settleStatement);
    this.attempts = new AttemptRepository(executor);
    this.health = new EndpointHealthRepository(executor, (ids) => this.announce('subscriptions', ids));
    this.holdings = new DispatcherHoldings(executor);
    this.pull = new PullRepository(executor, (ids) => this.announce('subscriptions', ids));
    this.events = new EventRepository(executor, 'event_keys');
    this.replays = new ReplayRepository(executor, () => this.announce('deliveries'));
    this.retention = new RetentionRepository(executor, new PostgresPartitions(pool, { appendLockKey, commitBound: this.commitBound }));
  }

  /** Connects and brings the schema up to date. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    // Every connection goes to the host that accepts writes (primary-host.ts), found again after a failover.
    const primary = new PrimaryHost(databaseHosts(options.connectionString), connectTimeoutMs);
    const pool = new pg.Pool({
      Client: primary.Client,
      connectionString: primary.connectionString,
      max: poolSize(options),
      // Fail fast while the database is unreachable: a publish answers 503 instead of hanging.
      connectionTimeoutMillis: connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      // A process stalled or cut off mid-transaction must not hold the shared append lock for hours: the
      // server ends such sessions, and waits on the lock or a statement are bounded, so requests get a 503.
      keepAlive: true,
      statement_timeout: 30_000,
      lock_timeout: 10_000,
      idle_in_transaction_session_timeout: 30_000,
      types: bigintsAsNumbers,
    });
    // A connection dropped by a database restart or a network failure must not crash the process. The pool
    // handles idle connections, but a checked-out one emits 'error' with nobody listening; the query itself
    // still fails, and the pool replaces the connection.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    try {
      await migratePostgres(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresStore(pool, options, primary);
  }

  async appendEvents(events: readonly ValidEvent[], match?: SubscriptionMatcher, claim?: DeliveryClaim): Promise<boolean[]> {
    const fanOut = this.fanOut(events, match, claim);
    const parameters = [
      appendLockKey,
      events.map((e) => e.id),
      events.map((e) => e.source),
      events.map((e) => e.type),
      events.map((e) => e.resource),
      events.map((e) => e.subject),
      events.map((e) => e.alternativesubject),
      events.map((e) => e.time),
      events.map((e) => e.payload),
      fanOut.events,
      fanOut.subscriptionIds,
      fanOut.claims,
      Date.now(),
      claim?.owner ?? null,
      claim?.leaseUntil ?? null,
      channels.deliveries,
    ];
    // herald_append_claimed (migration 009) takes the append lock, writes the events and their deliveries, and
    // announces unclaimed ones: called on its own it is one round trip and its own transaction.
    const append = { name: 'herald_append_claimed', text: appendStatement, values: parameters };
    let rows: AppendedRow[];
    const hook = this.options.beforeCommit;
    if (!hook) {
      rows = await this.commitInTime<AppendedRow>(append);
    } else {
      // Tests hold the transaction open before its commit: the same function, in an explicit transaction.
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        rows = (await client.query<AppendedRow>(append)).rows;
        await hook();
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        // A connection that failed mid-transaction is discarded, not handed to the next commit.
        client.release(true);
        throw error;
      }
      client.release();
    }

    const stored = events.map(() => false);
    const claimed: DeliveryTask[] = [];
    if (events.length > 0 && !rows.some((row) => row.eventN !== null)) await this.repeatsReplicated();
    let unclaimed = false;
    // The function returns the stored events first, then the claimed deliveries, then the summary.
    const placeOf = new Map<number, number>();
    // Stored events come in log order: the last is the newest.
    let newestSeq = 0;
    for (const row of rows) {
      if (row.eventN !== null) {
        stored[row.eventN - 1] = true;
        placeOf.set(row.seq, row.eventN);
        newestSeq = row.seq;
      } else if (row.written !== null) {
        this.statistics.deliveriesWritten(row.written, row.deliveryId);
        unclaimed = row.unclaimed > 0;
      } else {
        claimed.push({ id: row.deliveryId, subscriptionId: row.subscriptionId, attempts: 0, payload: fanOut.payloads.get(placeOf.get(row.seq) ?? 0) ?? '' });
      }
    }
    if (placeOf.size > 0) this.statistics.eventsStored(placeOf.size, newestSeq);
    if (claimed.length > 0) claim?.handOff(claimed);
    if (unclaimed) this.notifications.announceLocally('deliveries');
    if (placeOf.size > 0) this.announceCommit();
    return stored;
  }

  /** One statement that is its own transaction, its commit acknowledged within HERALD_COMMIT_TIMEOUT or a 503. */
  private commitInTime<Row extends pg.QueryResultRow>(statement: pg.QueryConfig): Promise<Row[]> {
    return commitWithin<Row>(this.pool, statement, this.commitBound);
  }

  /**
   * An append that stored nothing (every event a repeat) commits nothing, so it waits for no standby: yet the
   * first copy may be one whose commit timed out (committed on the primary, not yet on the standby, never
   * acknowledged). Committing a WAL record now and waiting for it, as any commit does, means everything
   * before it, that first copy included, is on the standby too before the repeat is answered 200. The same
   * for any write that found its work done (SqlExecutor.durable: a subscription asked for again).
   */
  private async repeatsReplicated(): Promise<void> {
    await this.commitInTime({ text: "SELECT pg_logical_emit_message(true, 'herald', 'repeat')" });
  }

  watch(listener: StoreListener): () => void {
    return this.notifications.listen(listener);
  }

  /**
   * Tells event streams that new events committed: this process's at once, the others' through NOTIFY. The
   * NOTIFY is sent after the commit, off the publish's path, and at most one is on its way: commits while it is
   * sent are told by one more, so a busy log costs one notice per round trip, not one per commit.
   */
  private announceCommit(): void {
    this.notifications.announceLocally('events');
    this.commitNoticeAgain = true;
    if (!this.commitNoticeSending) void this.sendCommitNotices();
  }

  private async sendCommitNotices(): Promise<void> {
    this.commitNoticeSending = true;
    while (this.commitNoticeAgain) {
      this.commitNoticeAgain = false;
      // A lost notice delays other processes' streams until their next heartbeat re-reads the log. A NOTIFY
      // commits, so it too waits for a synchronous standby: bounded like any write.
      await this.commitInTime({ text: `SELECT pg_notify('${channels.events}', '')` }).catch(() => {});
    }
    this.commitNoticeSending = false;
  }

  /** Tells this process at once and the others through NOTIFY. */
  private async announce(topic: StoreTopic, subscriptionIds?: readonly number[]): Promise<void> {
    this.notifications.announceLocally(topic, subscriptionIds);
    // The change is committed already: a lost notice must not turn it into an error. Other processes catch
    // up when their listener reconnects, or at their registry's periodic refresh.
    // The payload names the subscriptions changed (NOTIFY carries up to 8,000 bytes; more says "anything").
    const payload = subscriptionIds && subscriptionIds.length <= 500 ? subscriptionIds.join(',') : '';
    await this.commitInTime({ text: `SELECT pg_notify('${channels[topic]}', $1)`, values: [payload] }).catch(() => {});
  }

  /**
   * The deliveries the events need if they are new: one per matching subscription, naming the event by its
   * 1-based place in the batch. Which events are new is known only inside the append, so this is worked out
   * for every event but the later copies of one (source, id) in the batch, which are never new; the database
   * writes the rows of the events it stored. A claim offered for an event that turns out to be a repeat is
   * simply not used.
   */
  /** The shared plan (fan-out-plan.ts) as herald_append_claimed takes it: parallel arrays, events numbered from 1. */
  private fanOut(events: readonly ValidEvent[], match: SubscriptionMatcher | undefined, claim: DeliveryClaim | undefined) {
    const planned = planFanOut(events, match, claim);
    // By the event's place in the batch until the database says its position.
    const payloads = new Map<number, string>();
    for (const [eventIndex, , claimed] of planned) if (claimed) payloads.set(eventIndex + 1, events[eventIndex]?.payload ?? '');
    return {
      events: planned.map(([eventIndex]) => eventIndex + 1),
      subscriptionIds: planned.map(([, subscriptionId]) => subscriptionId),
      claims: planned.map(([, , claimed]) => claimed),
      payloads,
    };
  }

  /** Reads of the log take at most half the pool (ReadSlots): the rest stays free for publishes and leases. */
  readLog(query: LogQuery): Promise<LogPage> {
    return this.logReads.run(() => this.logPages.read(query));
  }

  /** One statement and one text per page (buildLogPageText), in a read slot as `readLog`. */
  readLogBytes(query: LogQuery): Promise<LogPageBytes> {
    return this.logReads.run(() => this.logPages.readBytes(query));
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

  /**
   * The highest position handed out so far, committed or not (the sequence is not transactional): a position
   * at or below it may belong to a commit not yet visible here, such as one a hot standby applied first while
   * this server still waits for its synchronous standby (replica-reads.ts).
   */
  async positionsHandedOut(): Promise<number> {
    const { rows } = await this.pool.query<{ last: number }>('SELECT last_value AS last FROM events_seq_seq');
    return rows[0]?.last ?? 0;
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.notifications.close();
    await this.pool.end();
  }
}

/** HERALD_COMMIT_TIMEOUT's default: under the 30 s statement timeout, which would end the wait as a success. */
const defaultCommitTimeoutMs = 10_000;

/** How long connecting to a server may take before the store counts as unavailable (a 503). */
const connectTimeoutMs = 5_000;

/** Connections in a process's pool (HERALD_DATABASE_POOL_SIZE). */
function poolSize(options: PostgresStoreOptions): number {
  return options.maxConnections ?? 10;
}
