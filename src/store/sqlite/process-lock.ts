import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** Raised when another process already serves the same SQLite database. */
export class DatabaseInUseError extends Error {
  constructor(
    readonly databasePath: string,
    readonly holder: string | undefined,
  ) {
    super(
      `Another Herald process (${holder ?? 'pid unknown'}) already serves the SQLite database ${databasePath}. ` +
        'SQLite serves one process: stop that one first, or move to PostgreSQL (HERALD_DATABASE=postgres://…) ' +
        'to run several.',
    );
    this.name = 'DatabaseInUseError';
  }
}

export interface ServeLock {
  /** Lets the next process in; also happens by itself when this process ends, however it ends. */
  release(): void;
}

/**
 * Makes sure one process at a time serves a SQLite database: two would each run a dispatcher over the same
 * deliveries, and SQLite has no `SKIP LOCKED` to keep them apart.
 *
 * The lock is a small SQLite file beside the database (`herald.db.lock`) held in an exclusive transaction.
 * That is an operating-system lock, so the kernel drops it when the process dies, even by SIGKILL: there is
 * never a stale lock to clean up, and a reused pid (pid 1 in every container) cannot fool it. The holder's
 * pid is written to `herald.db.lock-owner`, only to name it in the error a second process gets.
 *
 * @example const lock = holdServeLock('./data/herald.db'); ... lock.release();
 */
export function holdServeLock(databasePath: string): ServeLock {
  if (databasePath === ':memory:') return { release() {} };
  const lockPath = `${databasePath}.lock`;
  const ownerPath = `${databasePath}.lock-owner`;
  let lock: Database.Database;
  try {
    mkdirSync(dirname(lockPath), { recursive: true });
    lock = new Database(lockPath, { timeout: 0 });
  } catch (error) {
    throw new Error(`Cannot open the lock file ${lockPath} (is the data folder read-only?): ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    lock.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') throw new DatabaseInUseError(databasePath, readOwner(ownerPath));
    throw new Error(`Cannot take the lock ${lockPath}: ${(error as Error).message}`, { cause: error });
  }
  const owner = `pid ${process.pid} on ${hostname()}`;
  try {
    writeFileSync(ownerPath, `${owner}, since ${new Date().toISOString()}\n`);
  } catch {
    // Only the error message of a second process misses the pid; the lock itself holds.
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      // The lock file stays: deleting it while another process waits to open it would split the lock in two.
      if (readOwner(ownerPath)?.startsWith(owner)) rmSync(ownerPath, { force: true });
      lock.close();
    },
  };
}

function readOwner(ownerPath: string): string | undefined {
  try {
    return readFileSync(ownerPath, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
