import type { EngineErrors } from '../store-errors.js';

/** Result codes of a database that cannot take the work now: busy, locked, full, read-only, unopenable. */
const unavailableCodes = new Set([
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_PROTOCOL',
]);

/** Every I/O error (`SQLITE_IOERR_FSYNC`, …) is the disk's, not the request's. */
const ioError = /^SQLITE_IOERR/;

/** better-sqlite3's own error for a statement on a closed connection (the store is shutting down). */
const closedConnection = /database connection is not open/i;

/** The values, not the work: too big, a constraint (all its kinds), a type mismatch. */
const refusedCodes = /^SQLITE_(?:TOOBIG|CONSTRAINT|MISMATCH)(?:_|$)/;

/**
 * How SQLite's errors read: better-sqlite3 sets the (extended) result code as `code`.
 * @example sqliteErrors.unavailable({ code: 'SQLITE_FULL', severity: undefined, message: 'database or disk is full' }) // true
 */
export const sqliteErrors: EngineErrors = {
  raisedByDatabase: ({ code }) => code?.startsWith('SQLITE_') ?? false,
  unavailable: ({ code, message }) =>
    (code !== undefined && (unavailableCodes.has(code) || ioError.test(code))) || closedConnection.test(message),
  refused: ({ code }) => code !== undefined && refusedCodes.test(code),
};
