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
import { buildExaminationEnd, buildLogQuery, examinationEndNeeded, type SqlStatement } from '../log-query-sql.js';
import { pageFromRow } from '../log-page-bytes.js';
import { buildLogPageText, type LogPageRow } from '../log-page-sql.js';
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
import { postgresDialect } from './dialect.js';
import { migratePostgres } from './migration-target.js';
import { channels, PostgresNotifications } from './notifications.js';
import { PartitionStatistics } from './partition-statistics.js';
import { PostgresPartitions } from './retention.js';

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
  readonly connectionString: string;
  readonly maxConnections?: number;
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
  private readonly statementNames = new Map<string, string>();
  /** Refreshes the statistics of the partitions this process writes (partition-statistics.ts). */
  private readonly statistics: PartitionStatistics;
  private readonly notifications: PostgresNotifications;
  private readonly logReads: ReadSlots;
  /** A NOTIFY of new events is on its way; `commitNoticeAgain`: another commit wants one after it. */
  private commitNoticeSending = false;
  private commitNoticeAgain = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: PostgresStoreOptions,
  ) {
    this.notifications = new PostgresNotifications(options.connectionString);
    this.statistics = new PartitionStatistics(pool);
    this.logReads = new ReadSlots(Math.max(1, Math.floor(poolSize(options) / 2)));
    const executor: SqlExecutor = {
      ...postgresDialect,
      all: async <T>(sql: string, parameters: readonly unknown[]) =>
        (await pool.query({ text: sql, values: parameters as unknown[] })).rows as T[],
      atomically: (statements) => atomically(pool, appendLockKey, statements),
    };
    this.subscriptions = new SubscriptionRepository(executor, (ids) => this.announce('subscriptions', ids));
    this.deliveries = new DeliveryRepository(executor, () => this.announce('deliveries'), settleStatement);
    this.attempts = new AttemptRepository(executor);
    this.health = new EndpointHealthRepository(executor, (ids) => this.announce('subscriptions', ids));
    this.holdings = new DispatcherHoldings(executor);
    this.pull = new PullRepository(executor, (ids) => this.announce('subscriptions', ids));
    this.events = new EventRepository(executor, 'event_keys');
    this.replays = new ReplayRepository(executor, () => this.announce('deliveries'));
    this.retention = new RetentionRepository(executor, new PostgresPartitions(pool, { appendLockKey }));
  }

  /** Connects and brings the schema up to date. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: poolSize(options),
      // Fail fast while the database is unreachable: a publish answers 503 instead of hanging.
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      // A process stalled or cut off mid-transaction must not hold the shared append lock for hours: the
      // server ends such sessions, and waits on the lock or a statement are bounded, so requests get a 503.
      keepAlive: true,
      statement_timeout: 30_000,
      lock_timeout: 10_000,
      idle_in_transaction_session_timeout: 30_000,
      // bigint columns (positions, ids, epoch milliseconds) stay far below 2^53: read them as numbers.
      types: { getTypeParser: ((oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
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
    return new PostgresStore(pool, options);
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
      rows = (await this.pool.query<AppendedRow>(append)).rows;
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
      // A lost notice delays other processes' streams until their next heartbeat re-reads the log.
      await this.pool.query(`SELECT pg_notify('${channels.events}', '')`).catch(() => {});
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
    await this.pool.query(`SELECT pg_notify('${channels[topic]}', $1)`, [payload]).catch(() => {});
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
    return this.logReads.run(() => this.readLogNow(query));
  }

  private async readLogNow(query: LogQuery): Promise<LogPage> {
    // Two statements, two snapshots: positions are handed out in commit order, so once the end's row is
    // visible every row before it has committed, and the second read sees exactly the rows the first counted.
    const end = examinationEndNeeded(query)
      ? ((await this.run<{ seq: number | null }>(buildExaminationEnd(query, postgresDialect, query.examineAtMost)))[0]?.seq ?? undefined)
      : undefined;
    return { events: await this.run<LoggedEvent>(buildLogQuery(query, postgresDialect, end)), examinedThrough: end };
  }

  /** One statement and one text per page (buildLogPageText), in a read slot as `readLog`. */
  readLogBytes(query: LogQuery): Promise<LogPageBytes> {
    return this.logReads.run(async () => {
      const [row] = await this.run<LogPageRow<string>>(buildLogPageText(query, postgresDialect));
      if (!row) throw new Error('the page statement answered no row');
      // The driver decodes text; encoded once here, the answer is sent as these bytes.
      return pageFromRow({ ...row, body: Buffer.from(row.body) });
    });
  }

  async readEvents(query: LogQuery): Promise<LoggedEvent[]> {
    return (await this.readLog(query)).events;
  }

  private async run<Row extends object>({ sql, parameters }: SqlStatement): Promise<Row[]> {
    const { rows } = await this.pool.query<Row>({ name: this.statementName(sql), text: sql, values: parameters });
    return rows;
  }

  findEventPosition(id: string, source?: string): Promise<number | undefined> {
    return this.events.position(id, source);
  }

  headPosition(): Promise<number> {
    return this.events.head();
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.notifications.close();
    await this.pool.end();
  }

  /** Named statements are prepared once per connection and reused by every later page read. */
  private statementName(sql: string): string {
    let name = this.statementNames.get(sql);
    if (!name) {
      name = `herald_log_${this.statementNames.size + 1}`;
      if (this.statementNames.size < 256) this.statementNames.set(sql, name);
      else return '';
    }
    return name;
  }
}

/** Connections in a process's pool (HERALD_DATABASE_POOL_SIZE). */
function poolSize(options: PostgresStoreOptions): number {
  return options.maxConnections ?? 10;
}
