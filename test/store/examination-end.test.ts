import { describe, expect, it } from 'vitest';
import { parseSourceFilter } from '../../src/domain/source-filter.js';
import { parseTextPattern } from '../../src/domain/text-pattern.js';
import { examinationEndNeeded } from '../../src/store/log-query-sql.js';

const read = { afterSeq: 0, limit: 1000, examineAtMost: 10_000 };

describe('Whether a read must find where its bound ends', () => {
  it('need not when its one filter is an equality and the page is no larger than the bound', () => {
    expect(examinationEndNeeded({ ...read, resource: 'urn:a:b' })).toBe(false);
    expect(examinationEndNeeded({ ...read, subject: '/party/1' })).toBe(false);
    expect(examinationEndNeeded({ ...read, alternativesubject: '/person/1' })).toBe(false);
    expect(examinationEndNeeded({ ...read, resource: 'urn:a:b', examineAtMost: undefined })).toBe(false);
  });

  it('must when some examined entries may not match, or the bound is smaller than the page', () => {
    expect(examinationEndNeeded({ ...read, resource: 'urn:a:b', subject: '/party/1' })).toBe(true);
    expect(examinationEndNeeded({ ...read, resource: 'urn:a:b', types: [parseTextPattern('t')] })).toBe(true);
    expect(examinationEndNeeded({ ...read, resource: 'urn:a:b', source: parseSourceFilter('https://x/a') })).toBe(true);
    expect(examinationEndNeeded({ ...read, source: parseSourceFilter('https://x/a') })).toBe(true);
    expect(examinationEndNeeded({ ...read, resource: 'urn:a:b', examineAtMost: 500 })).toBe(true);
  });
});
