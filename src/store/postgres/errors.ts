import type { EngineErrors } from '../store-errors.js';

/**
 * Codes of a server that cannot be reached or cannot take the work now: the connection failing (Node's
 * system errors), the server shutting down or restarting, exhausted connections, a server that takes no
 * writes (a standby: the primary is being found again), and the time limits Herald sets (statement, lock
 * wait, idle in transaction).
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
  '25006', // read_only_sql_transaction: a standby, or a primary demoted to one, until the new primary is found
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

/** pg's own errors for a connection that failed or a pool that was closed: they carry no code. */
const unavailableMessages =
  /timeout exceeded when trying to connect|Connection terminated|Cannot use a pool after calling end|Client has encountered a connection error/i;

/** A SQLSTATE: five digits or capitals. */
const sqlstate = /^[0-9A-Z]{5}$/;

/**
 * The values, not the work: classes 22 (data exception: a value its column cannot hold), 23 (integrity
 * constraint violation) and 54 (program limit exceeded: an index entry too large).
 */
const refusedClasses = /^(?:22|23|54)[0-9A-Z]{3}$/;

/**
 * How PostgreSQL's errors read: pg's DatabaseError carries the server's severity next to the SQLSTATE in
 * `code`; connection failures carry Node's system error code, or only a message.
 * @example postgresErrors.refused({ code: '23505', severity: 'ERROR', message: 'duplicate key value' }) // true
 */
export const postgresErrors: EngineErrors = {
  raisedByDatabase: ({ code, severity }) => severity !== undefined && code !== undefined && sqlstate.test(code),
  unavailable: ({ code, message }) => (code !== undefined && unavailableCodes.has(code)) || unavailableMessages.test(message),
  refused: ({ code, severity }) => severity !== undefined && code !== undefined && refusedClasses.test(code),
};

/** The SQLSTATE of a database that does not exist (invalid_catalog_name): HERALD_DATABASE names none. */
export function isMissingDatabase(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '3D000';
}
