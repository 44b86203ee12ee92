import { postgresErrors } from './postgres/errors.js';
import { sqliteErrors } from './sqlite/errors.js';

/** What an error says about itself: the fields the database drivers set. */
export interface ErrorFields {
  /** A SQLite result code (`SQLITE_BUSY`), a PostgreSQL SQLSTATE (`57P01`) or a Node system error (`ECONNRESET`). */
  readonly code: string | undefined;
  /** pg's DatabaseError carries the server's severity next to the SQLSTATE. */
  readonly severity: string | undefined;
  readonly message: string;
}

/** How one engine's errors read; each engine folder declares its own in `errors.ts`. */
export interface EngineErrors {
  /** The database refused a statement: the error carries its code (the `query` kind of store error). */
  raisedByDatabase(error: ErrorFields): boolean;
  /**
   * The database cannot be reached or cannot take writes right now, as opposed to a bug. Such a request is
   * answered 503 and may be retried.
   */
  unavailable(error: ErrorFields): boolean;
  /**
   * The database refused the request's own content, not the work: the same request would be refused again.
   * It is answered 4xx, and never counts against the store.
   */
  refused(error: ErrorFields): boolean;
}

const engines: readonly EngineErrors[] = [sqliteErrors, postgresErrors];

function fieldsOf(error: unknown): ErrorFields | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, severity, message } = error as { code?: unknown; severity?: unknown; message?: unknown };
  return {
    code: typeof code === 'string' ? code : undefined,
    severity: typeof severity === 'string' ? severity : undefined,
    message: typeof message === 'string' ? message : '',
  };
}

function anyEngine(error: unknown, test: (engine: EngineErrors, fields: ErrorFields) => boolean): boolean {
  const fields = fieldsOf(error);
  return fields !== undefined && engines.some((engine) => test(engine, fields));
}

/**
 * Whether the database cannot be reached or cannot take writes right now (transient: answered 503), as
 * opposed to refusing the request's content (`isRefusedByStore`) or a bug.
 * @example isStoreUnavailable(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' })) // true
 */
export function isStoreUnavailable(error: unknown): boolean {
  return anyEngine(error, (engine, fields) => engine.unavailable(fields));
}

/**
 * Whether the database refused the request's content (permanent: the client's error), as opposed to being
 * unavailable (transient: `isStoreUnavailable`) or a bug.
 * @example isRefusedByStore(Object.assign(new Error('index row size 3016 exceeds maximum'), { code: '54000', severity: 'ERROR' })) // true
 */
export function isRefusedByStore(error: unknown): boolean {
  return anyEngine(error, (engine, fields) => engine.refused(fields));
}

/**
 * Whether the error came from the database at all (it carries a SQLite result code or a PostgreSQL SQLSTATE).
 * @example isStoreError(Object.assign(new Error('syntax error'), { code: '42601', severity: 'ERROR' })) // true
 */
export function isStoreError(error: unknown): boolean {
  return anyEngine(error, (engine, fields) => engine.raisedByDatabase(fields));
}

/**
 * Whether Herald stopped waiting for a commit's acknowledgement (HERALD_COMMIT_TIMEOUT, PostgreSQL with a
 * synchronous standby): unavailable, and a retry would only wait as long again.
 * @example isCommitTimeout(new CommitTimeout(10_000)) // true
 */
export function isCommitTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'CommitTimeout';
}
