import type { AttemptRecord } from '../domain/attempt-record.js';
import { type DeliveryStatus, deliveryTransition, waitingDeliveryStatuses } from '../domain/delivery-status.js';
import type { RedriveFilter } from '../domain/redrive-filter.js';
import { sendingStatuses } from '../domain/subscription-status.js';
import type { AttemptOutcome, DeliveryRecord, DeliveryTask } from './records.js';
import { DeliveryCountQueries } from './delivery-counts.js';
import type { ColumnType } from './sql-dialect.js';
import type { SqlExecutor } from './sql-executor.js';
import { status, statusIn } from './status-sql.js';

/** Dead letters: the deliveries a redrive puts back in the queue. */
const redrive = deliveryTransition('redriven');

/** Outcomes per statement: bounds one statement's size. */
const maxSettlePerStatement = 500;

/** One outcome to record, with the attempt that led to it (none when nothing was sent). */
export interface SettledAttempt {
  readonly id: number;
  readonly outcome: AttemptOutcome;
  readonly attempt?: AttemptRecord | undefined;
}

/** What became of a resend (see DeliveryRepository.resend). */
export type ResendResult = { readonly kind: 'resent'; readonly delivery: DeliveryRecord } | { readonly kind: 'notFound' } | { readonly kind: 'inFlight' };

/** The columns of a DeliveryRecord, from deliveries `d` joined with events `e`. */
const deliveryColumns = `d.id, e.id AS "eventId", d.event_seq AS "eventSeq", d.status, d.attempts, d.last_status_code AS "lastStatusCode",
  d.last_error AS "lastError", d.last_error_kind AS "lastErrorKind", d.next_attempt_at AS "nextAttemptAt",
  d.delivered_at AS "deliveredAt", d.dead_at AS "deadAt", d.created_at AS "createdAt", d.replay_id AS "replayId",
  d.ordering_key IS NOT NULL AS ordered`;

/**
 * Deliveries, in SQL both engines share. Rows are written by the publish transaction (see the engines'
 * `appendEvents`); here they are leased, settled, listed and redriven.
 */
/**
 * How much a lease may take: subscriptions left out entirely, and each subscription's and consumer's room
 * (what its budget leaves after what it holds); those not named get the whole per-subscription or per-consumer
 * budget.
 */
export interface LeaseRoom {
  readonly excluded: readonly number[];
  readonly subscriptions: ReadonlyMap<number, number>;
  readonly perSubscription: number;
  readonly consumers: ReadonlyMap<string, number>;
  readonly perConsumer: number;
}

interface LeasedRow {
  readonly id: number;
  readonly subscriptionId: number;
  readonly attempts: number;
  readonly payload: string | null;
  readonly secretVersion: number;
}

/** No subscription left out and no room smaller than the lease itself (tools and tests). */
export function unboundedRoom(limit: number): LeaseRoom {
  return { excluded: [], subscriptions: new Map(), perSubscription: limit, consumers: new Map(), perConsumer: limit };
}

export class DeliveryRepository {
  /** Records outcomes given as JSON rows (see settleMany): one text, so the engine prepares it once. */
  private readonly settleStatement: string;
  /**
   * Without an engine statement (SQLite): writes the attempts of the outcomes whose lease is still held, run
   * just before `settleStatement` in the same transaction.
   */
  private readonly attemptsStatement: string | undefined;
  /** Backlog and dead-letter counts with a bounded cost (the API's listings, the overview). */
  readonly counts: DeliveryCountQueries;
  private readonly roomsOf: (parameter: number) => string;
  private readonly consumerRoomsOf: (parameter: number) => string;

  constructor(
    private readonly sql: SqlExecutor,
    private readonly due: () => Promise<void>,
    /**
     * The engine's own statement recording outcomes, where it has one: `$1` the lease holder, `$2` the outcomes as
     * settleMany words them; it answers `id` and `ordered` per delivery recorded. PostgreSQL's moves ordered keys on
     * in the same transaction (013_ordered_delivery.sql); SQLite's triggers do that for the shared statement.
     */
    settleStatement?: string,
  ) {
    this.counts = new DeliveryCountQueries(sql);
    this.roomsOf = (n) => sql.rowsOf(n, [['subscription_id', 'bigint'], ['room', 'integer']]);
    this.consumerRoomsOf = (n) => sql.rowsOf(n, [['consumer', 'text'], ['room', 'integer']]);
    // The fields of one outcome, as settleMany writes them (014_delivery_attempts.sql reads the same, followed by
    // the attempt's fields of `attemptColumns`).
    const outcomes = sql.rowsOf(2, [
      ['id', 'bigint'],
      ['status', 'text'],
      ['status_code', 'integer'],
      ['error', 'text'],
      ['next_attempt_at', 'bigint'],
      ['delivered_at', 'bigint'],
      ['dead_at', 'bigint'],
      ['error_kind', 'text'],
    ]);
    this.settleStatement = settleStatement ?? `UPDATE deliveries SET status = outcome.status, attempts = deliveries.attempts + 1,
         last_status_code = outcome.status_code, last_error = outcome.error, last_error_kind = outcome.error_kind,
         next_attempt_at = outcome.next_attempt_at,
         delivered_at = COALESCE(outcome.delivered_at, deliveries.delivered_at),
         dead_at = outcome.dead_at,
         lease_owner = NULL, lease_until = NULL
       FROM ${outcomes} AS outcome
       WHERE deliveries.id = outcome.id AND deliveries.lease_owner = $1
       RETURNING deliveries.id, deliveries.ordering_key IS NOT NULL AS ordered`;
    // The attempts travel as a parameter of their own here: each statement reads only the fields it writes.
    const attempts = sql.rowsOf(2, [['id', 'bigint'], ...attemptColumns]);
    this.attemptsStatement =
      settleStatement === undefined
        ? `INSERT INTO delivery_attempts (delivery_id, started_at, duration_ms, status_code, response_headers, response_body,
             body_truncated, error_kind, error)
           SELECT a.id, a.started_at, a.duration_ms, a.answer_status_code, a.response_headers, a.response_body,
             COALESCE(a.body_truncated, 0), a.attempt_error_kind, a.attempt_error
           FROM ${attempts} AS a JOIN deliveries d ON d.id = a.id
           WHERE d.lease_owner = $1`
        : undefined;
  }

  /**
   * Leases due deliveries of active push subscriptions whose endpoints are not suspended, oldest due first,
   * skipping rows another process holds and the subscriptions left out (`room.excluded`: busy here, or their
   * consumer or origin at its budget). No subscription and no consumer gets more rows than its room (`room`), so
   * one consumer's old backlog cannot fill a lease that others' new deliveries wait behind. A lease that expired
   * (its holder died) is taken over.
   */
  async leaseDue(
    owner: string,
    now: number,
    leaseUntil: number,
    limit: number,
    room: LeaseRoom = unboundedRoom(limit),
  ): Promise<DeliveryTask[]> {
    // The payload comes back with each leased row (a lookup by position per row): one statement, not a lease
    // and then a read. An event whose delivery rows outlived it (a race with retention) has no payload and is
    // left to lapse. Window functions cannot share a query level with FOR UPDATE, so the candidates are locked
    // in the innermost query and ranked around it.
    const leased = await this.sql.all<LeasedRow & { failures: number }>(
      `UPDATE deliveries SET lease_owner = $1, lease_until = $3
       WHERE id IN (
         SELECT ranked.id FROM (
           SELECT c.id, c.subscription_id, c.consumer,
             row_number() OVER (PARTITION BY c.subscription_id ORDER BY c.next_attempt_at, c.id) AS nth_of_subscription,
             row_number() OVER (PARTITION BY c.consumer ORDER BY c.next_attempt_at, c.id) AS nth_of_consumer
           FROM (
             SELECT d.id, d.subscription_id, d.next_attempt_at, s.consumer
             FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
             WHERE d.next_attempt_at <= $2 AND (d.lease_until IS NULL OR d.lease_until <= $2)
               AND ${statusIn('s.status', sendingStatuses)} AND s.endpoint IS NOT NULL AND s.health <> 'suspended'
               AND NOT (${this.sql.inList('d.subscription_id', 5)})
             ORDER BY d.next_attempt_at LIMIT $4 ${this.sql.lockForLease('d')}
           ) AS c
         ) AS ranked
           LEFT JOIN ${this.roomsOf(6)} AS subscription_room ON subscription_room.subscription_id = ranked.subscription_id
           LEFT JOIN ${this.consumerRoomsOf(8)} AS consumer_room ON consumer_room.consumer = ranked.consumer
         WHERE ranked.nth_of_subscription <= COALESCE(subscription_room.room, $7)
           AND ranked.nth_of_consumer <= COALESCE(consumer_room.room, $9)
       )
       RETURNING id, subscription_id AS "subscriptionId", attempts,
         (SELECT ${this.sql.payloadOf('e')} FROM events e WHERE e.seq = deliveries.event_seq) AS payload,
         (SELECT s.consecutive_failures FROM subscriptions s WHERE s.id = deliveries.subscription_id) AS failures,
         (SELECT s.secret_version FROM subscriptions s WHERE s.id = deliveries.subscription_id) AS "secretVersion"`,
      [
        owner,
        now,
        leaseUntil,
        limit,
        room.excluded,
        JSON.stringify([...room.subscriptions]),
        room.perSubscription,
        JSON.stringify([...room.consumers]),
        room.perConsumer,
      ],
    );
    // Whether the endpoint was failing (as any process recorded): its next success must end the run.
    return leased
      .sort((a, b) => a.id - b.id)
      .flatMap(({ id, subscriptionId, attempts, payload, failures, secretVersion }) =>
        payload === null
          ? []
          : [{ id, subscriptionId, attempts, payload, endpointFailing: Number(failures) > 0, secretVersion: Number(secretVersion) }],
      );
  }

  /**
   * Leases one due delivery of a suspended endpoint: its probe. Its outcome decides whether the endpoint
   * resumes; the rest of its deliveries wait meanwhile.
   */
  async leaseProbe(subscriptionId: number, owner: string, now: number, leaseUntil: number): Promise<DeliveryTask | undefined> {
    const [row] = await this.sql.all<LeasedRow>(
      `UPDATE deliveries SET lease_owner = $1, lease_until = $3
       WHERE id IN (
         SELECT d.id FROM deliveries d
         WHERE d.subscription_id = $4 AND ${statusIn('d.status', waitingDeliveryStatuses)} AND d.next_attempt_at <= $2
           AND (d.lease_until IS NULL OR d.lease_until <= $2)
         ORDER BY d.next_attempt_at LIMIT 1 ${this.sql.lockForLease('d')}
       )
       RETURNING id, subscription_id AS "subscriptionId", attempts,
         (SELECT ${this.sql.payloadOf('e')} FROM events e WHERE e.seq = deliveries.event_seq) AS payload,
         (SELECT s.secret_version FROM subscriptions s WHERE s.id = deliveries.subscription_id) AS "secretVersion"`,
      [owner, now, leaseUntil, subscriptionId],
    );
    if (!row || row.payload === null) return undefined;
    const { id, attempts, payload, secretVersion } = row;
    return { id, subscriptionId: row.subscriptionId, attempts, payload, probe: true, endpointFailing: true, secretVersion: Number(secretVersion) };
  }

  /**
   * How many deliveries each subscription has leased right now, by every process: for tools and tests (it reads
   * every due delivery; the dispatcher learns other processes' holdings from DispatcherHoldings instead).
   */
  async countLeased(now: number): Promise<Map<number, number>> {
    const rows = await this.sql.all<{ subscriptionId: number | string; n: number | string }>(
      `SELECT subscription_id AS "subscriptionId", count(*) AS n FROM deliveries
       WHERE lease_owner IS NOT NULL AND lease_until > $1 GROUP BY subscription_id`,
      [now],
    );
    return new Map(rows.map((row) => [Number(row.subscriptionId), Number(row.n)]));
  }

  /**
   * Records an attempt's outcome. Only the lease holder may: a process whose lease expired while it waited on
   * a slow receiver must not overwrite the outcome of the process that took over.
   */
  async settle(id: number, owner: string, outcome: AttemptOutcome, now: number, attempt?: AttemptRecord): Promise<boolean> {
    return (await this.settleMany(owner, [{ id, outcome, attempt }], now)).has(id);
  }

  /**
   * Records many outcomes in one statement, so the cost of a durable commit is shared by every attempt that
   * finished meanwhile (group commit, as for publishing). Each attempt's row is written in the same transaction
   * as its outcome (PostgreSQL: the same statement), and only where the outcome is: an attempt whose lease
   * lapsed meanwhile leaves no row, as its outcome leaves no trace.
   * @returns the ids whose outcome was recorded (this process still held their lease)
   */
  async settleMany(owner: string, settled: readonly SettledAttempt[], now: number): Promise<Set<number>> {
    const recorded = new Set<number>();
    const finished = new Set(settled.filter(({ outcome }) => outcome.kind !== 'retry').map(({ id }) => id));
    let keysMovedOn = false;
    for (let start = 0; start < settled.length; start += maxSettlePerStatement) {
      const batch = settled.slice(start, start + maxSettlePerStatement);
      const rows = batch.map(({ id, outcome, attempt }) => [
        id,
        deliveryTransition(outcome.kind).to,
        outcome.statusCode,
        outcome.kind === 'delivered' ? null : outcome.error,
        outcome.kind === 'retry' ? outcome.nextAttemptAt : null,
        outcome.kind === 'delivered' ? now : null,
        outcome.kind === 'dead' ? now : null,
        outcome.kind === 'delivered' ? null : (attempt?.errorKind ?? null),
        // PostgreSQL's herald_settle reads each outcome's attempt from the same row.
        ...(this.attemptsStatement === undefined ? attemptFields(attempt) : []),
      ]);
      // The outcomes travel as one JSON parameter, so the statement's text never changes. A leased delivery is
      // always waiting (leases take due rows only), where every outcome's transition starts.
      const parameters = [owner, JSON.stringify(rows)];
      const attempted = this.attemptsStatement === undefined ? [] : batch.filter((s) => s.attempt !== undefined);
      // The attempts first: they are written only while the lease is held, which the outcomes then release.
      const updated =
        attempted.length === 0
          ? await this.sql.all<{ id: number; ordered: boolean | number }>(this.settleStatement, parameters)
          : (((await this.sql.atomically([
              { sql: this.attemptsStatement as string, parameters: [owner, JSON.stringify(attempted.map((s) => [s.id, ...attemptFields(s.attempt)]))] },
              { sql: this.settleStatement, parameters },
            ])) ?? [])[1] as { id: number; ordered: boolean | number }[] | undefined) ?? [];
      for (const row of updated) {
        recorded.add(row.id);
        if (row.ordered && finished.has(row.id)) keysMovedOn = true;
      }
    }
    // A finished delivery of an ordered key made the key's next one due (docs/ordering.md): announced, so it goes
    // now rather than at some dispatcher's next idle look. A retry keeps its key where it was.
    if (keysMovedOn) void this.due().catch(() => {});
    return recorded;
  }

  /** Gives leases back unused, so the deliveries are due again at once, for any process. */
  async release(ids: readonly number[], owner: string): Promise<void> {
    if (ids.length === 0) return;
    await this.sql.all(
      `UPDATE deliveries SET lease_owner = NULL, lease_until = NULL
       WHERE ${this.sql.inList('id', 1)} AND lease_owner = $2 RETURNING id`,
      [ids, owner],
    );
  }

  /** A subscription's deliveries, oldest first, optionally of one status. */
  list(subscriptionId: number, status: DeliveryStatus | undefined, afterId: number, limit: number): Promise<DeliveryRecord[]> {
    return this.sql.all<DeliveryRecord>(
      `SELECT ${deliveryColumns}
       FROM deliveries d JOIN events e ON e.seq = d.event_seq
       WHERE d.subscription_id = $1 AND d.id > $2 AND ($3 = '' OR d.status = $3)
       ORDER BY d.id LIMIT $4`,
      [subscriptionId, afterId, status ?? '', limit],
    );
  }

  /** One delivery of a subscription, or undefined when it has none with that id. */
  async get(subscriptionId: number, deliveryId: number): Promise<DeliveryRecord | undefined> {
    const [row] = await this.sql.all<DeliveryRecord>(
      `SELECT ${deliveryColumns}
       FROM deliveries d JOIN events e ON e.seq = d.event_seq
       WHERE d.subscription_id = $1 AND d.id = $2`,
      [subscriptionId, deliveryId],
    );
    return row;
  }

  /**
   * When the oldest delivery that is due to an active push subscription was due, or null when none is: the
   * queue lag metric. Read the way leases read (the due index, oldest first), so it stops at the first row.
   */
  async oldestDueAt(now: number): Promise<number | null> {
    const [row] = await this.sql.all<{ dueAt: number }>(
      `SELECT d.next_attempt_at AS "dueAt" FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
       WHERE d.next_attempt_at <= $1 AND ${statusIn('s.status', sendingStatuses)} AND s.endpoint IS NOT NULL
       ORDER BY d.next_attempt_at LIMIT 1`,
      [now],
    );
    return row === undefined ? null : Number(row.dueAt);
  }

  /** For each of these deliveries that was delivered, milliseconds from its event's commit to its delivery. */
  async deliveryDurations(ids: readonly number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.sql.all<{ ms: number }>(
      `SELECT delivered_at - created_at AS ms FROM deliveries
       WHERE ${this.sql.inList('id', 1)} AND delivered_at IS NOT NULL`,
      [ids],
    );
    return rows.map((row) => Number(row.ms));
  }

  /**
   * Puts the dead deliveries of a subscription that `filter` takes (every one without a filter) back in the
   * queue, with a fresh ladder. One of an ordered key waits its turn: the migrations' triggers make it the key's
   * head once nothing else of its key is under way (docs/ordering.md), and it goes before the key's later events
   * still waiting.
   */
  async redrive(subscriptionId: number, now: number, filter: RedriveFilter = {}): Promise<number> {
    const rows = await this.sql.all(
      `UPDATE deliveries SET status = ${status(redrive.to)}, attempts = 0, dead_at = NULL,
         next_attempt_at = CASE WHEN ordering_key IS NULL THEN CAST($2 AS bigint) END, lease_owner = NULL, lease_until = NULL
       WHERE subscription_id = $1 AND ${statusIn('status', redrive.from)}
         AND (CAST($3 AS bigint) = -1 OR dead_at >= CAST($3 AS bigint))
         AND (CAST($4 AS bigint) = -1 OR dead_at < CAST($4 AS bigint))
         AND (CAST($5 AS integer) = -1 OR last_status_code = CAST($5 AS integer))
         AND (CAST($6 AS text) = '' OR last_error_kind = CAST($6 AS text))
       RETURNING id`,
      [subscriptionId, now, filter.diedFrom ?? -1, filter.diedUntil ?? -1, filter.statusCode ?? -1, filter.errorKind ?? ''],
    );
    if (rows.length > 0) await this.due();
    return rows.length;
  }

  /**
   * Sends one delivery again, whatever its status (docs/delivery.md, "Resend"): waiting again with a fresh ladder,
   * due now, under the same webhook-id. One of an ordered key keeps one-in-flight-per-key: if it is its key's head
   * it is due now; otherwise it waits (a waiting one keeps its place; a delivered or dead one is made the key's
   * head by the migrations' triggers once nothing else of its key is under way, ahead of the key's later events).
   * One in flight (leased, its lease not lapsed) is left alone: its attempt's outcome is still to be recorded.
   */
  async resend(subscriptionId: number, deliveryId: number, now: number): Promise<ResendResult> {
    const rows = await this.sql.all<{ id: number }>(
      `UPDATE deliveries SET status = 'pending', attempts = 0, dead_at = NULL,
         next_attempt_at = CASE WHEN ordering_key IS NULL THEN CAST($3 AS bigint)
           WHEN ${statusIn('status', waitingDeliveryStatuses)} AND next_attempt_at IS NOT NULL THEN CAST($3 AS bigint) END,
         lease_owner = NULL, lease_until = NULL
       WHERE subscription_id = $1 AND id = $2 AND (lease_until IS NULL OR lease_until <= $3)
       RETURNING id`,
      [subscriptionId, deliveryId, now],
    );
    const delivery = await this.get(subscriptionId, deliveryId);
    if (!delivery) return { kind: 'notFound' };
    if (rows.length === 0) return { kind: 'inFlight' };
    await this.due();
    return { kind: 'resent', delivery };
  }
}

/** The fields of an attempt, as settleMany writes them after its delivery's id. */
const attemptColumns: (readonly [string, ColumnType])[] = [
  ['started_at', 'bigint'],
  ['duration_ms', 'integer'],
  ['answer_status_code', 'integer'],
  ['response_headers', 'text'],
  ['response_body', 'text'],
  ['body_truncated', 'integer'],
  ['attempt_error_kind', 'text'],
  ['attempt_error', 'text'],
];

/** An attempt's fields (`attemptColumns`); nulls for none. */
function attemptFields(attempt: AttemptRecord | undefined): unknown[] {
  if (!attempt) return [null, null, null, null, null, null, null, null];
  const { answer } = attempt;
  return [
    attempt.startedAt,
    attempt.durationMs,
    answer?.statusCode ?? null,
    answer ? JSON.stringify(answer.headers) : null,
    answer?.body ?? null,
    answer?.bodyTruncated ?? false,
    answer ? null : (attempt.errorKind ?? 'other'),
    answer ? null : (attempt.error ?? null),
  ];
}
