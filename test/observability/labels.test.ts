import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { deliveryStatusClass } from '../../src/observability/delivery-status-class.js';
import { storeErrorKind } from '../../src/observability/store-error-kind.js';

describe('deliveryStatusClass', () => {
  it('names the status class of an answer', () => {
    expect(deliveryStatusClass({ kind: 'answered', statusCode: 204 })).toBe('2xx');
    expect(deliveryStatusClass({ kind: 'answered', statusCode: 302 })).toBe('3xx');
    expect(deliveryStatusClass({ kind: 'answered', statusCode: 410 })).toBe('4xx');
    expect(deliveryStatusClass({ kind: 'answered', statusCode: 503, retryAfter: '5' })).toBe('5xx');
  });

  it("tells a timeout from other network failures, in the sender's words", () => {
    expect(deliveryStatusClass({ kind: 'failed', error: 'No answer within 30000 ms.' })).toBe('timeout');
    expect(deliveryStatusClass({ kind: 'failed', error: 'Connecting to the endpoint timed out.' })).toBe('timeout');
    expect(deliveryStatusClass({ kind: 'failed', error: 'The endpoint refused the connection.' })).toBe('network');
  });

  it('keeps the label bounded: a status outside 100–599 is a network failure, and nothing sent is none', () => {
    expect(deliveryStatusClass({ kind: 'answered', statusCode: 999 })).toBe('network');
    expect(deliveryStatusClass(undefined)).toBe('none');
  });
});

describe('storeErrorKind', () => {
  const coded = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(code), { code, ...extra });

  it('unavailable: the database cannot be reached or cannot write', () => {
    expect(storeErrorKind(coded('ECONNREFUSED'))).toBe('unavailable');
    expect(storeErrorKind(coded('SQLITE_FULL'))).toBe('unavailable');
    expect(storeErrorKind(coded('57P01', { severity: 'FATAL' }))).toBe('unavailable');
    expect(storeErrorKind(new Error('Connection terminated unexpectedly'))).toBe('unavailable');
  });

  it('query: the database refused a statement', () => {
    expect(storeErrorKind(coded('23505', { severity: 'ERROR' }))).toBe('query');
    expect(storeErrorKind(coded('SQLITE_CONSTRAINT_UNIQUE'))).toBe('query');
  });

  it('anything else is not a store error', () => {
    expect(storeErrorKind(new TypeError('x is undefined'))).toBeUndefined();
    expect(storeErrorKind(coded('ERR_INVALID_ARG_TYPE'))).toBeUndefined();
    expect(storeErrorKind('a string')).toBeUndefined();
    expect(storeErrorKind(null)).toBeUndefined();
  });
});

describe('HERALD_METRICS_TOKEN', () => {
  it('is unset by default, so /metrics is open', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
  });

  it('is read, trimmed', () => {
    expect(loadConfig({ HERALD_METRICS_TOKEN: '  scrape-token-0123456789 ' }).metricsToken).toBe('scrape-token-0123456789');
  });

  it.each([
    ['shorter than 16 characters', 'short-token'],
    ['with a space inside', 'scrape token 0123456789'],
    ['not ASCII', 'skrapenøkkel-0123456789'],
  ])('refuses a token %s, naming the variable', (_what, token) => {
    expect(() => loadConfig({ HERALD_METRICS_TOKEN: token })).toThrow(/HERALD_METRICS_TOKEN/);
  });
});
