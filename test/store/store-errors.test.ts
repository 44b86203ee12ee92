import { describe, expect, it } from 'vitest';
import { postgresErrors } from '../../src/store/postgres/errors.js';
import { sqliteErrors } from '../../src/store/sqlite/errors.js';
import { isRefusedByStore, isStoreError, isStoreUnavailable } from '../../src/store/store-errors.js';

const fields = (code: string | undefined, severity?: string, message = '') => ({ code, severity, message });

describe("Each engine's error classification", () => {
  it('reads SQLite result codes: busy, full and I/O errors are transient, constraints are the request’s', () => {
    expect(sqliteErrors.unavailable(fields('SQLITE_BUSY'))).toBe(true);
    expect(sqliteErrors.unavailable(fields('SQLITE_IOERR_FSYNC'))).toBe(true);
    expect(sqliteErrors.unavailable(fields(undefined, undefined, 'The database connection is not open'))).toBe(true);
    expect(sqliteErrors.refused(fields('SQLITE_CONSTRAINT_UNIQUE'))).toBe(true);
    expect(sqliteErrors.refused(fields('SQLITE_TOOBIG'))).toBe(true);
    expect(sqliteErrors.refused(fields('SQLITE_BUSY'))).toBe(false);
    expect(sqliteErrors.raisedByDatabase(fields('SQLITE_ERROR'))).toBe(true);
    expect(sqliteErrors.raisedByDatabase(fields('23505', 'ERROR'))).toBe(false);
  });

  it('reads PostgreSQL SQLSTATEs only with the server’s severity, and connection failures by code or message', () => {
    expect(postgresErrors.unavailable(fields('57P01', 'FATAL'))).toBe(true);
    expect(postgresErrors.unavailable(fields('ECONNREFUSED'))).toBe(true);
    expect(postgresErrors.unavailable(fields(undefined, undefined, 'Connection terminated unexpectedly'))).toBe(true);
    expect(postgresErrors.refused(fields('23505', 'ERROR'))).toBe(true);
    expect(postgresErrors.refused(fields('54000', 'ERROR'))).toBe(true);
    // A five-character code without a severity is not the server's: Node's or a library's.
    expect(postgresErrors.refused(fields('22001'))).toBe(false);
    expect(postgresErrors.raisedByDatabase(fields('42601', 'ERROR'))).toBe(true);
    expect(postgresErrors.raisedByDatabase(fields('SQLITE_ERROR'))).toBe(false);
  });

  it('answers for either engine through the store-wide functions, and not for errors that are not the store’s', () => {
    const coded = (code: string, extra: object = {}) => Object.assign(new Error(code), { code, ...extra });
    expect(isStoreUnavailable(coded('SQLITE_FULL'))).toBe(true);
    expect(isStoreUnavailable(coded('53300', { severity: 'FATAL' }))).toBe(true);
    expect(isRefusedByStore(coded('SQLITE_MISMATCH'))).toBe(true);
    expect(isRefusedByStore(coded('22P02', { severity: 'ERROR' }))).toBe(true);
    expect(isStoreError(coded('SQLITE_ERROR'))).toBe(true);
    for (const notOurs of [new TypeError('x is undefined'), 'a string', null, coded('ERR_INVALID_ARG_TYPE')]) {
      expect([isStoreUnavailable(notOurs), isRefusedByStore(notOurs), isStoreError(notOurs)]).toEqual([false, false, false]);
    }
  });
});
