import type pg from 'pg';

/**
 * Runs a statement that is its own transaction and answers only if its commit is acknowledged within
 * `timeoutMs`: else it fails with a commit timeout (an unavailable store: a 503) and the statement is
 * cancelled in the background.
 *
 * Why: with a synchronous standby (`synchronous_commit = on`, `synchronous_standby_names`), a commit waits for
 * the standby to confirm it, and while the standby is down it waits forever. Cancelling that wait does not
 * undo the commit: PostgreSQL has already committed it locally and answers success with only a WARNING
 * ("canceling wait for synchronous replication"), which a driver takes for a success. So Herald keeps its own
 * clock and never turns such a late answer into an acknowledgement. The cancel frees the connection and the
 * append lock the waiting transaction still holds (locks are released only after the standby confirms).
 */
export async function commitWithin<Row extends pg.QueryResultRow>(
  pool: pg.Pool,
  statement: pg.QueryConfig,
  timeoutMs: number,
  cancel: (client: pg.PoolClient) => Promise<void>,
): Promise<Row[]> {
  const client = await pool.connect();
  const answer = client.query<Row>(statement);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const outcome = await Promise.race([answer.then((result) => ({ result }), (error: unknown) => ({ error })), late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    // The connection goes back to the pool once the statement has ended, discarded if it failed.
    answer.then(
      () => client.release(),
      (error: Error) => client.release(error),
    );
    void cancel(client).catch(() => {});
    throw new CommitTimeout(timeoutMs);
  }
  if ('error' in outcome) {
    client.release(outcome.error as Error);
    throw outcome.error;
  }
  client.release();
  return outcome.result.rows;
}

/**
 * A commit not acknowledged in time: the server may yet have committed it (locally, not replicated), so it is
 * not an answer either way. `57014` (query_canceled) is what it becomes on the server: an unavailable store.
 */
export class CommitTimeout extends Error {
  readonly code = '57014';

  constructor(timeoutMs: number) {
    super(`The commit was not acknowledged within ${timeoutMs} ms (HERALD_COMMIT_TIMEOUT): a synchronous standby may be down.`);
    this.name = 'CommitTimeout';
  }
}
