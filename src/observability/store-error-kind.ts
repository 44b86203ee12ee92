import { isStoreError, isStoreUnavailable } from '../store/store-errors.js';

/** The `kind` label of a store error. */
export type StoreErrorKind = 'unavailable' | 'query';

/**
 * Whether an error came from the store, and which kind: `unavailable` when the database cannot be reached or
 * cannot take writes (the errors answered 503), `query` when the database refused a statement (a PostgreSQL
 * error with its SQLSTATE, a SQLite error code). Anything else is not a store error. Each engine's
 * `errors.ts` says how its errors read.
 * @example storeErrorKind(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' })) // 'unavailable'
 */
export function storeErrorKind(error: unknown): StoreErrorKind | undefined {
  if (isStoreUnavailable(error)) return 'unavailable';
  return isStoreError(error) ? 'query' : undefined;
}
