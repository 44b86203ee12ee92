import { defaultOrdering } from '../domain/delivery-ordering.js';
import type { SubscriptionStatus } from '../domain/subscription-status.js';
import type { NewSubscription, SubscriptionRecord, ValidationTask } from './records.js';
import type { SqlExecutor } from './sql-executor.js';
import { subscriptionChangeAllowed, subscriptionStatusAfter } from './status-sql.js';

const subscriptionColumns = `id, consumer, created_by AS "createdBy", endpoint, source_filter AS "sourceFilter",
  resource_filter AS "resourceFilter", subject_filter AS "subjectFilter",
  alternative_subject_filter AS "alternativeSubjectFilter", type_filter AS "typeFilter", secret,
  previous_secret AS "previousSecret", previous_secret_until AS "previousSecretUntil", secret_version AS "secretVersion",
  status,
  created_at AS "createdAt", validated_at AS "validatedAt", validation_attempts AS "validationAttempts",
  next_validation_at AS "nextValidationAt", last_error AS "lastError",
  acknowledged_delivery_id AS "acknowledgedDeliveryId", last_read_at AS "lastReadAt", checkpoint_epoch AS "checkpointEpoch",
  health, health_since AS "healthSince", health_error AS "healthError", consecutive_failures AS "consecutiveFailures",
  probe_at AS "probeAt",
  disabled_by AS "disabledBy", ordering, on_dead_letter AS "onDeadLetter", filters`;

/** True for a row no request of its owner may change: an operator disabled it (docs/subscriptions.md). */
/** A row as the database gives it: the filter expressions are JSON text. */
type SubscriptionRow = Omit<SubscriptionRecord, 'filters'> & { readonly filters: string | null };

/** The record of a row, filter expressions read from their JSON text. */
function fromRow(row: SubscriptionRow): SubscriptionRecord {
  return { ...row, filters: row.filters === null ? null : (JSON.parse(row.filters) as SubscriptionRecord['filters']) };
}

const notOperatorDisabled = `COALESCE(disabled_by, '') <> 'operator'`;

/**
 * Records a failed handshake. A failure leaves the status as it was (pending stays pending, active stays
 * active); a 410 Gone disables the subscription as its endpoint's decision. Neither touches a subscription
 * past the handshake meanwhile (an operator's disable among them).
 */
const recordFailedValidation = (change: 'validationFailed' | 'validationGone'): string =>
  `UPDATE subscriptions SET status = ${subscriptionStatusAfter(change)},
     disabled_by = ${change === 'validationGone' ? "'endpoint'" : 'NULL'},
     validation_attempts = validation_attempts + 1,
     next_validation_at = $2, validation_lease_until = NULL, last_error = $3
   WHERE id = $1 AND ${subscriptionChangeAllowed(change)} RETURNING id`;

const validationFailedStatement = recordFailedValidation('validationFailed');
const validationGoneStatement = recordFailedValidation('validationGone');

/** What became of a validation handshake. */
export type ValidationResult =
  | { readonly ok: true; readonly at: number }
  | { readonly ok: false; readonly error: string; readonly nextAttemptAt: number | null; readonly disable: boolean };

/**
 * Subscriptions, in SQL both engines share. Every change is announced through `changed`, so each Herald
 * process rebuilds its match index at once rather than on a timer.
 */
export class SubscriptionRepository {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly changed: (subscriptionIds?: readonly number[]) => Promise<void>,
  ) {}

  /**
   * Creates a subscription, or finds the identical one this consumer already has: the unique identity makes
   * concurrent identical requests meet on one row.
   */
  async create(s: NewSubscription): Promise<{ subscription: SubscriptionRecord; created: boolean }> {
    const inserted = await this.records(
      `INSERT INTO subscriptions (identity, consumer, created_by, endpoint, source_filter, resource_filter,
         subject_filter, alternative_subject_filter, type_filter, secret, status, created_at, next_validation_at,
         validated_at, last_read_at, ordering, on_dead_letter, filters)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $12, $15, $16, $17)
       ON CONFLICT (identity) DO NOTHING
       RETURNING ${subscriptionColumns}`,
      [s.identity, s.consumer, s.createdBy, s.endpoint, s.sourceFilter, s.resourceFilter, s.subjectFilter,
        s.alternativeSubjectFilter, s.typeFilter, s.secret, s.status, s.now, s.nextValidationAt, s.validatedAt,
        s.ordering ?? defaultOrdering.ordering, s.onDeadLetter ?? defaultOrdering.onDeadLetter,
        s.filters ? JSON.stringify(s.filters) : null],
    );
    if (inserted[0]) {
      await this.changed([inserted[0].id]);
      return { subscription: inserted[0], created: true };
    }
    const [existing] = await this.records(
      `SELECT ${subscriptionColumns} FROM subscriptions WHERE identity = $1`,
      [s.identity],
    );
    if (!existing) throw new Error('subscription vanished between insert and select');
    return { subscription: existing, created: false };
  }

  private async records(statement: string, parameters: readonly unknown[]): Promise<SubscriptionRecord[]> {
    return (await this.sql.all<SubscriptionRow>(statement, parameters)).map(fromRow);
  }

  /** How many subscriptions a consumer has, for the per-consumer cap. */
  async countByConsumer(consumer: string): Promise<number> {
    const [row] = await this.sql.all<{ n: number }>('SELECT count(*) AS n FROM subscriptions WHERE consumer = $1', [consumer]);
    return Number(row?.n ?? 0);
  }

  async findByIdentity(identity: string): Promise<SubscriptionRecord | undefined> {
    const [row] = await this.records(`SELECT ${subscriptionColumns} FROM subscriptions WHERE identity = $1`, [identity]);
    return row;
  }

  async get(id: number): Promise<SubscriptionRecord | undefined> {
    const [row] = await this.records(`SELECT ${subscriptionColumns} FROM subscriptions WHERE id = $1`, [id]);
    return row;
  }

  /** One page of a consumer's subscriptions, oldest first. */
  listByConsumer(consumer: string, afterId: number, limit: number): Promise<SubscriptionRecord[]> {
    return this.records(
      `SELECT ${subscriptionColumns} FROM subscriptions WHERE consumer = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [consumer, afterId, limit],
    );
  }

  /** One page of every consumer's subscriptions, oldest first (an operator's listing through the API). */
  listEveryConsumer(afterId: number, limit: number): Promise<SubscriptionRecord[]> {
    return this.records(`SELECT ${subscriptionColumns} FROM subscriptions WHERE id > $1 ORDER BY id LIMIT $2`, [afterId, limit]);
  }

  /** Every subscription, for the match index. */
  listAll(): Promise<SubscriptionRecord[]> {
    return this.records(`SELECT ${subscriptionColumns} FROM subscriptions ORDER BY id`, []);
  }

  /** Every subscription, optionally only one consumer's and of one status, oldest first (operators' listing). */
  listBy(filter: { readonly consumer?: string | undefined; readonly status?: SubscriptionStatus | undefined }): Promise<SubscriptionRecord[]> {
    return this.records(
      `SELECT ${subscriptionColumns} FROM subscriptions
       WHERE ($1 = '' OR consumer = $1) AND ($2 = '' OR status = $2) ORDER BY id`,
      [filter.consumer ?? '', filter.status ?? ''],
    );
  }

  /**
   * Stops a subscription receiving, whoever owns it (an operator's act). Publishing and the dispatcher both
   * check the status in the database, so nothing more is queued or sent from the moment this commits, even
   * by a process whose match index has not heard of the change yet. From then on only an operator changes it:
   * its owner's requests are refused, and handshakes and 410s still under way leave it as it is.
   */
  async disable(id: number, reason: string): Promise<SubscriptionRecord | undefined> {
    const [row] = await this.records(
      `UPDATE subscriptions SET status = ${subscriptionStatusAfter('disabledByOperator')}, disabled_by = 'operator',
         last_error = $2, next_validation_at = NULL, validation_lease_until = NULL
       WHERE id = $1 AND ${subscriptionChangeAllowed('disabledByOperator')} RETURNING ${subscriptionColumns}`,
      [id, reason],
    );
    if (row) await this.changed([id]);
    return row;
  }

  /**
   * Lets a subscription receive again (an operator's act). A push subscription runs the handshake first, as
   * `requestValidation` does: its endpoint may have changed hands while it was off. A pull subscription has no
   * endpoint to check: it is active at once, and counts as read now so it does not go inactive straight away.
   */
  async enable(id: number, now: number): Promise<SubscriptionRecord | undefined> {
    const [row] = await this.records(
      // Typed by CAST: PostgreSQL cannot infer a parameter's type from a CASE whose other branch is NULL.
      `UPDATE subscriptions SET
         status = ${subscriptionStatusAfter('enabledByOperator')},
         validation_attempts = CASE WHEN endpoint IS NULL THEN validation_attempts ELSE 0 END,
         next_validation_at = CASE WHEN endpoint IS NULL THEN NULL ELSE CAST($2 AS bigint) END,
         validation_lease_until = NULL,
         disabled_by = NULL,
         last_error = CASE WHEN endpoint IS NULL THEN NULL ELSE last_error END,
         last_read_at = CASE WHEN endpoint IS NULL THEN CAST($2 AS bigint) ELSE last_read_at END
       WHERE id = $1 AND ${subscriptionChangeAllowed('enabledByOperator')} RETURNING ${subscriptionColumns}`,
      [id, now],
    );
    if (row) await this.changed([id]);
    return row;
  }

  /** How many subscriptions there are by status and kind (push has an endpoint, pull has none): a metric. */
  async countByStatus(): Promise<{ status: SubscriptionStatus; kind: 'push' | 'pull'; count: number }[]> {
    const rows = await this.sql.all<{ status: SubscriptionStatus; kind: 'push' | 'pull'; count: number }>(
      `SELECT status, CASE WHEN endpoint IS NULL THEN 'pull' ELSE 'push' END AS kind, count(*) AS count
       FROM subscriptions GROUP BY 1, 2`,
      [],
    );
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }

  /**
   * Deletes a subscription and its deliveries, unless an operator disabled it: deleting would erase the
   * operator's decision and let its owner make the identical subscription afresh.
   */
  async delete(id: number): Promise<boolean> {
    const rows = await this.sql.all<{ id: number }>(
      `DELETE FROM subscriptions WHERE id = $1 AND ${notOperatorDisabled} RETURNING id`,
      [id],
    );
    if (rows.length > 0) await this.changed([id]);
    return rows.length > 0;
  }

  /**
   * Makes `secret` the push subscription's signing secret. The one it replaces keeps signing beside it for
   * `graceMs` (none: it stops at once); an older one still in its grace period is dropped, so at most two sign.
   * One statement, so rotations at the same moment follow one another and each replaces the one before. A pull
   * subscription, or one an operator disabled, is left as it is: `undefined`.
   */
  async rotateSecret(id: number, secret: string, now: number, graceMs: number): Promise<SubscriptionRecord | undefined> {
    const [row] = await this.records(
      // Typed by CAST: PostgreSQL cannot infer a parameter's type from a CASE whose other branch is NULL.
      `UPDATE subscriptions SET
         previous_secret = CASE WHEN CAST($4 AS bigint) > 0 THEN secret END,
         previous_secret_until = CASE WHEN CAST($4 AS bigint) > 0 THEN CAST($3 AS bigint) + CAST($4 AS bigint) END,
         secret = $2, secret_version = secret_version + 1, secret_rotated_at = $3
       WHERE id = $1 AND endpoint IS NOT NULL AND ${notOperatorDisabled} RETURNING ${subscriptionColumns}`,
      [id, secret, now, graceMs],
    );
    if (row) await this.changed([id]);
    return row;
  }

  /** Sets a status the endpoint's answers decide (410 Gone: disabled); an operator's disable stays as it is. */
  async setStatus(id: number, status: SubscriptionStatus, lastError: string | null): Promise<void> {
    await this.sql.all(
      `UPDATE subscriptions SET status = $2, last_error = $3, disabled_by = CASE WHEN $2 = 'disabled' THEN 'endpoint' END
       WHERE id = $1 AND ${notOperatorDisabled} RETURNING id`,
      [id, status, lastError],
    );
    await this.changed([id]);
  }

  /**
   * Runs the handshake again (its owner's request). A pending subscription, or one its endpoint's 410 disabled,
   * waits (pending) until its endpoint answers; an active one stays active meanwhile, so no event is missed.
   * One an operator disabled is left as it is: `undefined`, as for one that does not exist.
   */
  async requestValidation(id: number, now: number): Promise<SubscriptionRecord | undefined> {
    const [row] = await this.records(
      `UPDATE subscriptions SET status = ${subscriptionStatusAfter('revalidationRequested')},
         validation_attempts = 0, next_validation_at = $2, validation_lease_until = NULL, disabled_by = NULL
       WHERE id = $1 AND ${notOperatorDisabled} AND ${subscriptionChangeAllowed('revalidationRequested')}
       RETURNING ${subscriptionColumns}`,
      [id, now],
    );
    if (row) await this.changed([id]);
    return row;
  }

  /**
   * Leases the handshakes that are due, so one process performs each. No consumer gets more than `perConsumer`
   * in flight, counting every process's (a consumer at its share is left out, so its endpoints that hang cannot
   * hold back another consumer's handshakes).
   */
  leaseDueValidations(now: number, leaseUntil: number, limit: number, perConsumer = limit): Promise<ValidationTask[]> {
    // Window functions cannot share a query level with FOR UPDATE: candidates are locked innermost, ranked around.
    return this.sql.all<ValidationTask>(
      `WITH validating AS (
         SELECT consumer, count(*) AS held FROM subscriptions
         WHERE validation_lease_until IS NOT NULL AND validation_lease_until > $1 GROUP BY consumer
       )
       UPDATE subscriptions SET validation_lease_until = $2
       WHERE id IN (
         SELECT ranked.id FROM (
           SELECT c.id, c.due, row_number() OVER (PARTITION BY c.consumer ORDER BY c.due, c.id)
             + COALESCE((SELECT v.held FROM validating v WHERE v.consumer = c.consumer), 0) AS nth
           FROM (
             SELECT s.id, s.consumer, s.next_validation_at AS due FROM subscriptions s
             WHERE s.next_validation_at <= $1 AND ${subscriptionChangeAllowed('validated', 's')}
               AND (s.validation_lease_until IS NULL OR s.validation_lease_until <= $1)
               AND s.consumer NOT IN (SELECT v.consumer FROM validating v WHERE v.held >= $4)
             ORDER BY s.next_validation_at LIMIT $5 ${this.sql.lockForLease('s')}
           ) AS c
         ) AS ranked
         WHERE ranked.nth <= $4
         ORDER BY ranked.due LIMIT $3
       )
       RETURNING id AS "subscriptionId", endpoint, secret, previous_secret AS "previousSecret",
         previous_secret_until AS "previousSecretUntil", validation_attempts AS attempts`,
      // A few times the limit are looked at, so one consumer's many due handshakes leave room for others'.
      [now, leaseUntil, limit, perConsumer, limit * 4],
    );
  }

  async recordValidation(id: number, result: ValidationResult): Promise<void> {
    if (result.ok) {
      await this.sql.all(
        `UPDATE subscriptions SET status = ${subscriptionStatusAfter('validated')}, validated_at = $2,
           validation_attempts = validation_attempts + 1, next_validation_at = NULL, validation_lease_until = NULL,
           last_error = NULL
         WHERE id = $1 AND ${subscriptionChangeAllowed('validated')} RETURNING id`,
        [id, result.at],
      );
    } else {
      await this.sql.all(result.disable ? validationGoneStatement : validationFailedStatement, [
        id,
        result.nextAttemptAt,
        result.error,
      ]);
      // A failed check changes what matches only when it disabled the subscription.
      if (result.disable) await this.changed([id]);
      return;
    }
    await this.changed([id]);
  }
}
