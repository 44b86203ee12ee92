import type { SqlExecutor } from './sql-executor.js';

/**
 * What each dispatcher holds of the delivery budgets, shared through the database where several processes
 * dispatch (PostgreSQL; `Store.holdings`): each process writes its own holdings and reads
 * everyone else's in one statement, a few times a second. Cheaper than counting leased rows, which would need an
 * index on the lease and make every lease update every index of the deliveries.
 */
export class DispatcherHoldings {
  constructor(private readonly sql: SqlExecutor) {}

  /**
   * Records this process's holdings (deliveries held per subscription) until `expiresAt`, and returns what the
   * other live processes hold, summed per subscription.
   */
  async exchange(owner: string, own: ReadonlyMap<number, number>, now: number, expiresAt: number): Promise<Map<number, number>> {
    const rows = await this.sql.all<{ holdings: string }>(
      `WITH mine AS (
         INSERT INTO dispatcher_holdings (owner, holdings, expires_at) VALUES ($1, $2, $4)
         ON CONFLICT (owner) DO UPDATE SET holdings = EXCLUDED.holdings, expires_at = EXCLUDED.expires_at
         RETURNING owner
       )
       SELECT holdings FROM dispatcher_holdings WHERE owner <> $1 AND expires_at > $3`,
      [owner, JSON.stringify([...own]), now, expiresAt],
    );
    const others = new Map<number, number>();
    for (const row of rows) {
      for (const [subscriptionId, count] of JSON.parse(row.holdings) as [number, number][]) {
        others.set(subscriptionId, (others.get(subscriptionId) ?? 0) + count);
      }
    }
    return others;
  }

  /** Forgets this process's holdings (it stopped), so others need not wait for them to expire. */
  async forget(owner: string): Promise<void> {
    await this.sql.all('DELETE FROM dispatcher_holdings WHERE owner = $1 RETURNING owner', [owner]);
  }
}
