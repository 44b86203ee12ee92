import { isStoreUnavailable } from '../store/store-errors.js';

/** The `kind` label of a store error. */
export type StoreErrorKind = 'unavailable' | 'query';

/**
 * Whether an error came from the store, and which kind: `unavailable` when the database cannot be reached or
 * cannot take writes (the errors answered 503), `query` when the database refused a statement (a PostgreSQL
 * error with its SQLSTATE, a SQLite error code). Anything else is not a store error.
 * @example storeErrorKind(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' })) // 'unavailable'
 */
export function storeErrorKind(error: unknown): StoreErrorKind | undefined {
  if (isStoreUnavailable(error)) return 'unavailable';
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  if (typeof code !== 'string') return undefined;
  if (code.startsWith('SQLITE_')) return 'query';
  // pg's DatabaseError carries the server's severity next to the five-character SQLSTATE.
  if (typeof severity === 'string' && /^[0-9A-Z]{5}$/.test(code)) return 'query';
  return undefined;
}
