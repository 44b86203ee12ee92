import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atomically } from '../../src/store/postgres/atomic-write.js';
import type { CommitBound } from '../../src/store/postgres/bounded-commit.js';
import { onlyReads } from '../../src/store/postgres/write-statements.js';
import { isCommitTimeout, isStoreUnavailable } from '../../src/store/store-errors.js';
import { pullClient } from '../http/pull-harness.js';
import { postgresEngine, type TestDatabase } from '../support/engines.js';
import { assembleHerald } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

describe('Which statements count as writes (HERALD_COMMIT_TIMEOUT bounds them)', () => {
  it('a plain SELECT only reads', () => {
    expect(onlyReads('SELECT count(*) AS n FROM subscriptions WHERE consumer = $1')).toBe(true);
    expect(onlyReads('  WITH page AS (SELECT seq FROM events) SELECT max(seq) FROM page')).toBe(true);
  });

  it('data-changing verbs, row locks, sequences, notices and Herald’s functions write', () => {
    for (const sql of [
      'UPDATE subscriptions SET status = $1 WHERE id = $2',
      'INSERT INTO herald_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING name',
      'DELETE FROM retention_marks WHERE at < $1 RETURNING at',
      'WITH due AS (SELECT id FROM deliveries FOR UPDATE SKIP LOCKED) UPDATE deliveries SET owner = $1 FROM due',
      'SELECT id FROM deliveries WHERE id = $1 FOR SHARE',
      'SELECT id, ordered FROM herald_settle($1, $2::jsonb)',
      "SELECT pg_notify('herald_subscriptions', $1)",
      "SELECT setval('events_seq_seq', $1, false)",
      'ANALYZE events_p20000',
    ]) {
      expect(onlyReads(sql), sql).toBe(false);
    }
  });
});

/**
 * The clock on writes other than publishing, proven without a standby: a lock held elsewhere keeps a write
 * from finishing, as a missing synchronous standby keeps its commit from being acknowledged.
 */
describe.skipIf(!postgresEngine.available)('PostgreSQL writes bounded by HERALD_COMMIT_TIMEOUT', () => {
  const commitTimeoutMs = 300;
  let db: TestDatabase;
  let side: pg.Client;
  beforeEach(async () => {
    db = await postgresEngine.create();
    side = new pg.Client({ connectionString: db.database });
    await side.connect();
  });
  afterEach(async () => {
    await side.end();
    await db.destroy();
  });

  /** The statements of other sessions waiting for a lock, whose text starts with `start`. */
  const waitingOnLocks = async (start: string) =>
    (
      await side.query<{ query: string }>(
        "SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND query LIKE $1",
        [`${start}%`],
      )
    ).rows;

  async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
    // Under the 10 s lock timeout, which would end the wait on its own.
    const deadline = Date.now() + 5_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('a one-statement write not answered in time fails as unavailable, its statement cancelled; it succeeds once free', async () => {
    const store = await db.open({ commitTimeoutMs });
    const herald = await assembleHerald(store);
    try {
      const id = await pullClient(herald.app, { authorization: `Bearer ${await testToken()}` }).subscribe();
      await side.query('BEGIN');
      await side.query('SELECT 1 FROM subscriptions WHERE id = $1 FOR UPDATE', [id]);

      const error = await store.subscriptions.setStatus(id, 'inactive', null).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(isCommitTimeout(error), String(error)).toBe(true);
      expect(isStoreUnavailable(error)).toBe(true);
      await eventually('the write to be cancelled', async () => (await waitingOnLocks('UPDATE subscriptions')).length === 0);

      await side.query('ROLLBACK');
      await store.subscriptions.setStatus(id, 'inactive', null);
      expect((await store.subscriptions.get(id))?.status).toBe('inactive');
    } finally {
      await herald.close();
    }
  });

  it('an atomic write is bounded whole, from BEGIN to COMMIT, and its connection is not reused', async () => {
    await db.open();
    const pool = new pg.Pool({ connectionString: db.database, max: 1 });
    const cancelled: number[] = [];
    const bound: CommitBound = {
      timeoutMs: commitTimeoutMs,
      cancel: async (client) => {
        const processID = (client as unknown as { processID: number }).processID;
        cancelled.push(processID);
        await side.query('SELECT pg_cancel_backend($1)', [processID]);
      },
    };
    const lockKey = 4_841_999;
    try {
      await side.query('SELECT pg_advisory_lock($1)', [lockKey]);
      const write = [{ sql: "INSERT INTO herald_keys (name, value) VALUES ('bounded', 'x') RETURNING name", parameters: [] }];
      const error = await atomically(pool, lockKey, write, bound).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(isCommitTimeout(error), String(error)).toBe(true);
      expect(cancelled).toHaveLength(1);
      await eventually('the write to be cancelled', async () => (await waitingOnLocks('SELECT pg_advisory_xact_lock')).length === 0);

      await side.query('SELECT pg_advisory_unlock($1)', [lockKey]);
      expect(await atomically(pool, lockKey, write, bound)).toEqual([[{ name: 'bounded' }]]);
      // A fresh connection: the one that ran out of time was discarded.
      const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(rows[0]?.pid).not.toBe(cancelled[0]);
    } finally {
      await pool.end();
    }
  });
});
