import type pg from 'pg';

/**
 * How long a write may take to be acknowledged (HERALD_COMMIT_TIMEOUT), and how a statement still running
 * then is cancelled (PrimaryHost.cancel: pg_cancel_backend from another connection).
 */
export interface CommitBound {
  readonly timeoutMs: number;
  readonly cancel: (client: pg.PoolClient) => Promise<void>;
}

/**
 * Herald's own clock on one write: its statements, on one connection, must be answered within the bound,
 * counted from the first; else the write fails with a commit timeout (an unavailable store: a 503), the
 * statement running is cancelled, and no further statement is sent.
 *
 * Why: with a synchronous standby (`synchronous_commit = on`, `synchronous_standby_names`), a commit waits for
 * the standby to confirm it, and while the standby is down it waits forever. Cancelling that wait does not
 * undo the commit: PostgreSQL has already committed it locally and answers success with only a WARNING
 * ("canceling wait for synchronous replication"), which a driver takes for a success. So Herald keeps its own
 * clock and never turns such a late answer into an acknowledgement, whoever ended the wait (this cancel, or the
 * 30 s statement timeout it stays under). The cancel frees the connection and any lock the waiting transaction
 * still holds, the append lock among them (locks are released only after the standby confirms).
 *
 * @example
 * const clock = new CommitClock(await pool.connect(), bound);
 * try { await clock.query('BEGIN'); …; await clock.query('COMMIT'); } finally { clock.release(failed) }
 */
export class CommitClock {
  private readonly deadline: number;
  /** The statement that was running when the time ran out; the connection is given back once it ends. */
  private late: Promise<unknown> | undefined;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly bound: CommitBound,
  ) {
    this.deadline = Date.now() + bound.timeoutMs;
  }

  /** Runs the write's next statement within what is left of its time. */
  async query<Row extends pg.QueryResultRow>(statement: pg.QueryConfig | string): Promise<Row[]> {
    if (this.late) throw new CommitTimeout(this.bound.timeoutMs);
    const left = this.deadline - Date.now();
    if (left <= 0) {
      // Nothing runs to cancel; a transaction left open ends with the connection, discarded on release.
      this.late = Promise.resolve();
      throw new CommitTimeout(this.bound.timeoutMs);
    }
    const answer = this.client.query<Row>(statement);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), left);
    });
    const outcome = await Promise.race([answer.then((result) => ({ result }), (error: unknown) => ({ error })), late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.late = answer.catch(() => {});
      void this.bound.cancel(this.client).catch(() => {});
      throw new CommitTimeout(this.bound.timeoutMs);
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.result.rows;
  }

  /** Whether the write ran out of time: its connection is then in an unknown state and not reused. */
  get ranOut(): boolean {
    return this.late !== undefined;
  }

  /**
   * Gives the connection back to the pool: discarded if the write failed, or if it ran out of time (then once
   * the cancelled statement has ended, so the pool never hands out a connection still busy).
   */
  release(failed: boolean): void {
    if (this.late) void this.late.then(() => this.client.release(true));
    else this.client.release(failed);
  }
}

/**
 * Runs a statement that is its own transaction and answers only if its commit is acknowledged within the
 * bound (CommitClock): a publish, or any write of one statement.
 */
export async function commitWithin<Row extends pg.QueryResultRow>(pool: pg.Pool, statement: pg.QueryConfig | string, bound: CommitBound): Promise<Row[]> {
  const clock = new CommitClock(await pool.connect(), bound);
  let failed = true;
  try {
    const rows = await clock.query<Row>(statement);
    failed = false;
    return rows;
  } finally {
    clock.release(failed);
  }
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
