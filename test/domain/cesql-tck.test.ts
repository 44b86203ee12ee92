import { describe, expect, it } from 'vitest';
import { compileCesql, isMatch } from '../../src/domain/cesql/index.js';
import { loadTckCases } from '../support/cesql-tck.js';

const cases = loadTckCases();

describe('the CESQL 1.0 conformance cases (TCK), through the compiled evaluator', () => {
  it('are all here: every file of the TCK, every case', () => {
    expect(new Set(cases.map((c) => c.title.split(':')[0])).size).toBe(18);
    expect(cases.length).toBeGreaterThan(250);
  });

  it.each(cases.map((c) => [c.title, c] as const))('%s', (_title, tck) => {
    const compiled = compileCesql(tck.expression);
    if (tck.error === 'parse') {
      expect(compiled.ok).toBe(false);
      if (!compiled.ok) expect(compiled.error.kind).toBe('parse');
      return;
    }
    if (!compiled.ok) throw new Error(`does not compile: ${compiled.error.message}`);
    const { result, errors } = compiled.expression.evaluate(tck.event);
    if (tck.result !== undefined) expect(result).toStrictEqual(tck.result);
    expect([...new Set(errors.map((e) => e.kind))]).toEqual(tck.error ? [tck.error] : []);
    // The filter rule: only true without errors matches.
    expect(compiled.expression.matches(tck.event)).toBe(result === true && errors.length === 0);
    expect(isMatch({ result, errors })).toBe(compiled.expression.matches(tck.event));
  });
});
