/**
 * A thread that holds SQLite connections (docs/storage.md, "Threads"). better-sqlite3 runs each statement
 * synchronously on the thread that calls it; here that is this worker thread, never Herald's event loop, so
 * no statement, scan or checkpoint delays an HTTP request. Messages come from SqliteThread (sqlite-thread.ts);
 * each is answered once its work is done, in the order they came.
 */
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { waitingDeliveryStatuses } from '../../domain/delivery-status.js';
import { receivingStatuses, sendingStatuses } from '../../domain/subscription-status.js';
import type { PlannedDelivery } from '../fan-out-plan.js';
import { status, statusIn } from '../status-sql.js';
import { buildExaminationEnd, buildLogQuery, examinationEndNeeded, type SqlStatement } from '../log-query-sql.js';
import { pageFromEvents } from '../log-page-bytes.js';
import type { LogPage, LogPageBytes, LogQuery } from '../store.js';
import { sqliteDialect } from './dialect.js';
import { migrateSqlite } from './migration-target.js';
import type {
  AppendResult,
  AtomicResult,
  CheckpointMode,
  ConnectionRole,
  EventRow,
  StatementResult,
  ThreadRequest,
  ThreadResponse,
} from './thread-protocol.js';

const maxCachedStatements = 256;
/** How long a statement waits for a lock another connection holds. */
const busyTimeoutMs = 5000;
/** How long a RESTART checkpoint waits for readers, holding the writer off meanwhile. */
const restartWaitMs = 50;
const sending = statusIn('status', sendingStatuses);

/** One connection and what it has prepared. */
class Connection {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly appendInTransaction: (request: AppendRequest) => AppendResult;

  constructor(
    private readonly db: Database.Database,
    readonly role: ConnectionRole,
  ) {
    this.appendInTransaction = db.transaction((request: AppendRequest) => this.appendRows(request));
  }

  static async open(path: string, role: ConnectionRole): Promise<Connection> {
    const db = new Database(path);
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    if (role === 'reader') {
      // Readers are ordinary connections that may not write: read-only ones need the WAL's files to exist.
      db.pragma('query_only = 1');
    } else {
      // Commits are made durable by WalSync on the event loop's side (wal-sync.ts): FULL's guarantee, with
      // the flush off every thread that commits. SQLite still syncs the log before each checkpoint.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
    }
    // Checkpoints run on the maintenance connection (checkpoints.ts), never inside a commit.
    if (role === 'writer' && path !== ':memory:') {
      db.pragma('wal_autocheckpoint = 0');
      // When the log starts over after a checkpoint, it is cut back to this size rather than kept at its peak.
      db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    }
    // An in-memory database is this connection's alone, so no one has migrated it yet.
    if (path === ':memory:') await migrateSqlite(db);
    return new Connection(db, role);
  }

  all(sql: string, parameters: StatementParameters): StatementResult {
    const statement = this.statement(sql);
    const args = bindings(parameters);
    if (statement.readonly) return { rows: statement.all(...args), wrote: false };
    if (this.role === 'reader') return { rows: [], wrote: false, notReadonly: true };
    // A write that changed nothing (a lease finding nothing due) has nothing to make durable.
    if (statement.reader) {
      const rows = statement.all(...args);
      return { rows, wrote: rows.length > 0 };
    }
    return { rows: [], wrote: statement.run(...args).changes > 0 };
  }

  append(request: AppendRequest): AppendResult {
    return this.appendInTransaction(request);
  }

  /** Runs the statements in one IMMEDIATE transaction; a guard that returns no row undoes them all. */
  atomically(statements: AtomicRequest['statements']): AtomicResult {
    const guardFailed = new Error('guard');
    const run = this.db.transaction(() =>
      statements.map(({ sql, parameters, guard }) => {
        const statement = this.statement(sql);
        const rows = statement.reader ? statement.all(...bindings(parameters)) : (statement.run(...bindings(parameters)), []);
        if (guard && rows.length === 0) throw guardFailed;
        return rows;
      }),
    );
    try {
      return { rows: run.immediate(), wrote: true };
    } catch (error) {
      if (error === guardFailed) return { rows: null, wrote: false };
      throw error;
    }
  }

  /** The end of the bounded read and the read up to there, in one snapshot (a read transaction). */
  readLog(query: LogQuery): LogPage {
    const read = this.db.transaction((): LogPage => {
      const end = examinationEndNeeded(query)
        ? (this.run<{ seq: number | null }>(buildExaminationEnd(query, sqliteDialect, query.examineAtMost))[0]?.seq ?? undefined)
        : undefined;
      return { events: this.run(buildLogQuery(query, sqliteDialect, end)), examinedThrough: end };
    });
    return read.deferred();
  }

  /**
   * `readLog` as the bytes of its answer, written on this thread. (One statement joining the payloads, as on
   * PostgreSQL, took three times as long here: SQLite sorts each ordered aggregate's input in a temporary tree.)
   */
  readLogBytes(query: LogQuery): LogPageBytes {
    return pageFromEvents(this.readLog(query));
  }

  /**
   * `PASSIVE` copies what it can without waiting for anyone. `RESTART` holds off the writer while it copies
   * the rest and waits for readers to leave the log, so the next commit starts the log over; it waits at
   * most `restartWaitMs` for them (`busy` is then 1, and the log stays as it was until the next try), since the
   * writer, and so every publish, waits with it.
   */
  checkpoint(mode: CheckpointMode): { busy: number; log: number; checkpointed: number } {
    if (mode === 'RESTART') this.db.pragma(`busy_timeout = ${restartWaitMs}`);
    try {
      const [row] = this.db.pragma(`wal_checkpoint(${mode})`) as { busy: number; log: number; checkpointed: number }[];
      return row ?? { busy: 0, log: 0, checkpointed: 0 };
    } finally {
      if (mode === 'RESTART') this.db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    }
  }

  /** Changes whenever another connection commits (never for this one's own writes). */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private appendRows({ events, deliveries, now, owner, leaseUntil }: AppendRequest): AppendResult {
    const insertEvent = this.statement(
      `INSERT INTO events (id, source, type, resource, subject, alternativesubject, time, registered_at, payload)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, id) DO NOTHING`,
    );
    // Only for a subscription still receiving in the database (an inactive pull subscription's queue keeps
    // filling): an index a moment stale must not fail a publish. Pull rows are never due for the dispatcher.
    // A claimed row (DeliveryClaim) is written leased to the publishing process if it is a push delivery the
    // dispatcher may send now: the subscription is active with an endpoint.
    // An ordered subscription's delivery carries its event's key (docs/ordering.md); it is due at once (and
    // may be claimed) only if its key has nothing waiting and no dead letter that blocks it. Otherwise it
    // waits, with no next_attempt_at, until the migration 011 triggers make it its key's head.
    const insertDelivery = this.statement(
      `INSERT INTO deliveries (subscription_id, event_seq, status, next_attempt_at, created_at, lease_owner, lease_until, ordering_key)
       SELECT id, $seq, ${status('pending')}, CASE WHEN endpoint IS NULL OR held THEN NULL ELSE $now END, $now,
         CASE WHEN $owner IS NOT NULL AND endpoint IS NOT NULL AND ${sending} AND NOT held THEN $owner END,
         CASE WHEN $owner IS NOT NULL AND endpoint IS NOT NULL AND ${sending} AND NOT held THEN $leaseUntil END,
         ordering_key
       FROM (
         SELECT keyed.*, ordering_key IS NOT NULL AND (
             EXISTS (SELECT 1 FROM deliveries w WHERE w.subscription_id = keyed.id AND w.ordering_key = keyed.ordering_key
               AND ${statusIn('w.status', waitingDeliveryStatuses)})
             OR (on_dead_letter = 'block' AND EXISTS (SELECT 1 FROM deliveries x WHERE x.subscription_id = keyed.id
               AND x.ordering_key = keyed.ordering_key AND x.status = ${status('dead')}))
           ) AS held
         FROM (
           SELECT id, endpoint, status, on_dead_letter,
             CASE WHEN ordering = 'none' OR endpoint IS NULL THEN NULL ELSE (
               SELECT ${sqliteDialect.orderingKeyOf('ordering', 'e')} FROM events e WHERE e.seq = $seq) END AS ordering_key
           FROM subscriptions WHERE id = $subscription AND ${statusIn('status', receivingStatuses)}
         ) AS keyed
       )
       RETURNING id, lease_owner IS NOT NULL AS claimed`,
    );
    const positions = events.map((row: EventRow) => {
      const [id, source, type, resource, subject, alternativesubject, time, payload] = row;
      const inserted = insertEvent.run(id, source, type, resource, subject, alternativesubject, time, now, payload);
      return inserted.changes === 1 ? Number(inserted.lastInsertRowid) : undefined;
    });
    const claimed: [number, number, number][] = [];
    let unclaimed = 0;
    for (const [eventIndex, subscriptionId, claim] of deliveries as readonly PlannedDelivery[]) {
      const seq = positions[eventIndex];
      if (seq === undefined) continue;
      const row = insertDelivery.get({
        seq,
        now,
        owner: claim ? owner : null,
        leaseUntil: claim ? leaseUntil : null,
        subscription: subscriptionId,
      }) as { id: number; claimed: number } | undefined;
      if (row?.claimed) claimed.push([row.id, subscriptionId, eventIndex]);
      else if (row) unclaimed++;
    }
    return { stored: positions.map((seq) => seq !== undefined), claimed, unclaimed };
  }

  private run<Row>({ sql, parameters }: SqlStatement): Row[] {
    return this.statement(sql).all(...parameters) as Row[];
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

type AppendRequest = Extract<ThreadRequest, { op: 'append' }>;
type AtomicRequest = Extract<ThreadRequest, { op: 'atomically' }>;
type StatementParameters = Extract<ThreadRequest, { op: 'all' }>['parameters'];

/** `$n`-named values bind by name; a statement without parameters takes none. */
function bindings(parameters: StatementParameters): unknown[] {
  return Object.keys(parameters).length > 0 ? [parameters] : [];
}

const connections = new Map<number, Connection>();

function connection(id: number): Connection {
  const found = connections.get(id);
  // Worded as better-sqlite3 words it, so a request after the store closed classifies as unavailable (503).
  if (!found) throw new Error(`The database connection is not open (connection ${id})`);
  return found;
}

async function handle(request: ThreadRequest): Promise<unknown> {
  switch (request.op) {
    case 'open':
      connections.get(request.connection)?.close();
      connections.set(request.connection, await Connection.open(request.path, request.role));
      return null;
    case 'close':
      connections.get(request.connection)?.close();
      connections.delete(request.connection);
      return null;
    case 'all':
      return connection(request.connection).all(request.sql, request.parameters);
    case 'append':
      return connection(request.connection).append(request);
    case 'readLog':
      return connection(request.connection).readLog(request.query);
    case 'readLogBytes':
      return connection(request.connection).readLogBytes(request.query);
    case 'atomically':
      return connection(request.connection).atomically(request.statements);
    case 'checkpoint':
      return connection(request.connection).checkpoint(request.mode);
    case 'dataVersion':
      return connection(request.connection).dataVersion();
  }
}

if (!parentPort) throw new Error('connection-thread.ts runs as a worker thread (see sqlite-thread.ts)');
const port: NonNullable<typeof parentPort> = parentPort;
/** Answers one request; requests are taken one at a time, in the order they came. */
async function answer({ id, request }: { id: number; request: ThreadRequest }): Promise<void> {
  let response: ThreadResponse;
  try {
    response = { id, ok: true, result: await handle(request) };
  } catch (error) {
    const { message, name, code } = error as { message?: string; name?: string; code?: unknown };
    response = {
      id,
      ok: false,
      error: { message: message ?? String(error), name: name ?? 'Error', code: typeof code === 'string' ? code : undefined },
    };
  }
  // A page's bytes are handed over, not copied: this thread never touches them again.
  port.postMessage(response, response.ok ? transferables(response.result) : []);
}

/** The buffers in a result that may move to the other thread rather than be copied. */
function transferables(result: unknown): ArrayBuffer[] {
  const body = (result as { body?: unknown } | null)?.body;
  return body instanceof Uint8Array && body.buffer instanceof ArrayBuffer && body.byteLength === body.buffer.byteLength
    ? [body.buffer]
    : [];
}

let turn = Promise.resolve();
port.on('message', (message: { id: number; request: ThreadRequest }) => {
  turn = turn.then(() => answer(message));
});
