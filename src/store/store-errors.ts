/**
 * Errors that mean the database cannot be reached or cannot take writes right now, as opposed to a bug:
 * connection failures, server shutdown or restart, exhausted connections, lock and statement timeouts,
 * and SQLite's busy, full, read-only and I/O errors. Such a request is answered 503 and may be retried.
 */
const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement_timeout)
  '55P03', // lock_not_available (lock_timeout)
  '25P03', // idle_in_transaction_session_timeout
  '53300', // too_many_connections
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_PROTOCOL',
]);

const unavailableMessages =
  /timeout exceeded when trying to connect|Connection terminated|Cannot use a pool after calling end|database connection is not open|Client has encountered a connection error/i;

export function isStoreUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (unavailableCodes.has(code) || code.startsWith('SQLITE_IOERR'))) return true;
  return unavailableMessages.test((error as { message?: unknown }).message as string);
}

/**
 * Errors the request's own content causes: the database refuses the values, not the work. PostgreSQL's
 * classes 22 (data exception: a value its column cannot hold), 23 (integrity constraint violation) and 54
 * (program limit exceeded: an index entry too large); SQLite's TOOBIG, CONSTRAINT (all its kinds) and
 * MISMATCH. The same request would be refused again: it is answered 4xx, and never counts against the store.
 */
const refusedPostgresClasses = /^(?:22|23|54)[0-9A-Z]{3}$/;
const refusedSqliteCodes = /^SQLITE_(?:TOOBIG|CONSTRAINT|MISMATCH)(?:_|$)/;

/**
 * Whether the database refused the request's content (permanent: the client's error), as opposed to being
 * unavailable (transient: `isStoreUnavailable`) or a bug.
 * @example isRefusedByStore(Object.assign(new Error('index row size 3016 exceeds maximum'), { code: '54000', severity: 'ERROR' })) // true
 */
export function isRefusedByStore(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  if (typeof code !== 'string') return false;
  if (refusedSqliteCodes.test(code)) return true;
  // pg's DatabaseError carries the server's severity next to the five-character SQLSTATE.
  return typeof severity === 'string' && refusedPostgresClasses.test(code);
}
