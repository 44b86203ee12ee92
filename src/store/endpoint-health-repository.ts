import type { EndpointHealth } from '../domain/endpoint-health.js';
import { sendingStatuses } from '../domain/subscription-status.js';
import type { SqlExecutor } from './sql-executor.js';
import { statusIn } from './status-sql.js';

/** A subscription's breaker counts after failures were recorded. */
export interface FailureCount {
  readonly subscriptionId: number;
  /** The health after the failures: `failing`, or `suspended` when it already was. */
  readonly health: EndpointHealth;
  readonly consecutiveFailures: number;
}

/**
 * The circuit breaker's state on each push subscription (docs/isolation.md), in SQL both engines share. Counts
 * change atomically in the database, so several processes attempting one endpoint add up their failures; a
 * suspension or resumption is a conditional update, so exactly one process makes (and announces) each.
 */
export class EndpointHealthRepository {
  private readonly failuresStatement: string;

  constructor(
    private readonly sql: SqlExecutor,
    private readonly changed: (subscriptionIds?: readonly number[]) => Promise<void>,
  ) {
    const failures = sql.rowsOf(2, [
      ['id', 'bigint'],
      ['failures', 'integer'],
      ['error', 'text'],
    ]);
    // The SET clause reads the row as it was; RETURNING gives it as it is now.
    this.failuresStatement = `UPDATE subscriptions SET consecutive_failures = consecutive_failures + failed.failures,
         health = CASE WHEN health = 'healthy' THEN 'failing' ELSE health END,
         health_since = CASE WHEN health = 'healthy' THEN $1 ELSE health_since END,
         health_error = failed.error
       FROM ${failures} AS failed
       WHERE subscriptions.id = failed.id AND subscriptions.endpoint IS NOT NULL
       RETURNING subscriptions.id AS "subscriptionId", health, consecutive_failures AS "consecutiveFailures"`;
  }

  /** Adds each subscription's failures to its run; a healthy endpoint becomes failing. */
  async recordFailures(
    failed: readonly { subscriptionId: number; failures: number; error: string }[],
    now: number,
  ): Promise<FailureCount[]> {
    if (failed.length === 0) return [];
    const rows = failed.map((f) => [f.subscriptionId, f.failures, f.error]);
    const counted = await this.sql.all<FailureCount>(this.failuresStatement, [now, JSON.stringify(rows)]);
    return counted.map((c) => ({ ...c, consecutiveFailures: Number(c.consecutiveFailures) }));
  }

  /**
   * Ends the failure runs of endpoints that answered 2xx. Writes only rows that were not already clean, so a
   * healthy endpoint's success costs nothing here, and only endpoints that failed are read and written.
   * @returns the subscriptions that were suspended and are resumed now, with when their suspension began
   */
  async recordSuccesses(subscriptionIds: readonly number[], now: number): Promise<{ subscriptionId: number; suspendedSince: number }[]> {
    if (subscriptionIds.length === 0) return [];
    const unclean = await this.sql.all<{ id: number; health: EndpointHealth; since: number | null; failures: number }>(
      `SELECT id, health, health_since AS since, consecutive_failures AS failures FROM subscriptions
       WHERE ${this.sql.inList('id', 1)} AND (health <> 'healthy' OR consecutive_failures > 0)`,
      [subscriptionIds],
    );
    const resumed: { subscriptionId: number; suspendedSince: number }[] = [];
    for (const row of unclean) {
      // Only if unchanged since it was read: of two processes ending one run, one does.
      const [won] = await this.sql.all<{ id: number }>(
        `UPDATE subscriptions SET consecutive_failures = 0, health = 'healthy', health_since = $2, health_error = NULL,
           probe_at = NULL, probe_interval = NULL
         WHERE id = $1 AND health = $3 AND consecutive_failures = $4 RETURNING id`,
        [row.id, now, row.health, row.failures],
      );
      if (won && row.health === 'suspended') resumed.push({ subscriptionId: Number(row.id), suspendedSince: Number(row.since ?? now) });
    }
    // A resumption changes what every process may lease and claim; the end of a mere failure run does not, and
    // announcing it would have every process reload its subscriptions each time a flaky endpoint recovers.
    if (resumed.length > 0) await this.changed(resumed.map((r) => r.subscriptionId));
    return resumed;
  }

  /**
   * Suspends an endpoint whose failures reached the threshold, unless another process did first.
   * @returns whether this call suspended it
   */
  async suspend(subscriptionId: number, now: number, probeIntervalMs: number): Promise<boolean> {
    const rows = await this.sql.all<{ id: number }>(
      `UPDATE subscriptions SET health = 'suspended', health_since = $2, probe_at = $3, probe_interval = $4
       WHERE id = $1 AND health <> 'suspended' AND endpoint IS NOT NULL RETURNING id`,
      [subscriptionId, now, now + probeIntervalMs, probeIntervalMs],
    );
    if (rows.length > 0) await this.changed([subscriptionId]);
    return rows.length > 0;
  }

  /**
   * Takes the due probes of suspended endpoints: each is moved to `until`, so no other process probes it
   * meanwhile (a probe that finds no due delivery tries again then).
   */
  leaseProbes(now: number, until: number, limit: number): Promise<number[]> {
    return this.sql
      .all<{ id: number }>(
        `UPDATE subscriptions SET probe_at = $2
         WHERE id IN (
           SELECT id FROM subscriptions
           WHERE probe_at <= $1 AND health = 'suspended' AND ${statusIn('status', sendingStatuses)} AND endpoint IS NOT NULL
           ORDER BY probe_at LIMIT $3 ${this.sql.lockForLease('subscriptions')}
         ) RETURNING id`,
        [now, until, limit],
      )
      .then((rows) => rows.map((row) => Number(row.id)));
  }

  /** A probe failed: the endpoint stays suspended, and the wait before the next probe doubles (to the maximum). */
  async probeFailed(subscriptionId: number, now: number, maxIntervalMs: number): Promise<void> {
    const doubled = `CASE WHEN probe_interval * 2 > $3 THEN $3 ELSE probe_interval * 2 END`;
    await this.sql.all(
      `UPDATE subscriptions SET probe_interval = ${doubled}, probe_at = $2 + ${doubled}
       WHERE id = $1 AND health = 'suspended' RETURNING id`,
      [subscriptionId, now, maxIntervalMs],
    );
  }

  /** How many push subscriptions' endpoints are in each health: a metric. */
  async countByHealth(): Promise<{ health: EndpointHealth; count: number }[]> {
    const rows = await this.sql.all<{ health: EndpointHealth; count: number }>(
      'SELECT health, count(*) AS count FROM subscriptions WHERE endpoint IS NOT NULL GROUP BY health',
      [],
    );
    return rows.map((row) => ({ health: row.health, count: Number(row.count) }));
  }
}
