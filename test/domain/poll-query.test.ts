import { describe, expect, it } from 'vitest';
import { examineBound, type PollParameters, parsePollQuery, pollPageSize } from '../../src/domain/poll-query.js';
import { parseSourceFilter } from '../../src/domain/source-filter.js';
import { parseTextPattern } from '../../src/domain/text-pattern.js';

const resource = 'urn:altinn:resource:example';

function accept(parameters: PollParameters, header?: string) {
  const parsed = parsePollQuery(parameters, header);
  if (!parsed.ok) throw new Error(`expected the poll to be accepted: ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
}

function refuse(parameters: PollParameters, header?: string) {
  const parsed = parsePollQuery(parameters, header);
  if (parsed.ok) throw new Error('expected the poll to be refused');
  return parsed.errors;
}

describe('parsePollQuery', () => {
  it('accepts after and resource alone, with the defaults for everything else', () => {
    expect(accept({ after: '0', resource })).toEqual({
      cursor: { kind: 'start' },
      resource,
      source: undefined,
      types: [],
      subject: undefined,
      alternativesubject: undefined,
      size: 50,
    });
  });

  it('turns after into a cursor: the start, an event id, or a next-link position', () => {
    expect(accept({ after: '0', resource }).cursor).toEqual({ kind: 'start' });
    expect(accept({ after: 'e-17', resource }).cursor).toEqual({ kind: 'event', id: 'e-17' });
    expect(accept({ after: '~42', resource }).cursor).toEqual({ kind: 'position', seq: 42 });
  });

  it("refuses a poll without after, in Altinn's words", () => {
    expect(refuse({ resource })).toEqual([
      { field: 'after', message: "The 'after' parameter must be defined." },
    ]);
  });

  it.each(['after', 'resource', 'source', 'subject', 'alternativesubject'] as const)(
    "refuses an empty '%s'",
    (name) => {
      const errors = refuse({ after: '0', resource, source: 'https://x', [name]: '' });
      expect(errors).toContainEqual({ field: name, message: `The '${name}' parameter must not be empty.` });
    },
  );

  it('needs a resource or a source', () => {
    expect(refuse({ after: '0' })).toEqual([
      { field: 'resource', message: "The 'resource' or 'source' parameter must be defined." },
    ]);
  });

  it('accepts a source without a resource, with % as a wildcard', () => {
    const query = accept({ after: '0', source: 'https://x.no/%/instances' });
    expect(query.resource).toBeUndefined();
    expect(query.source).toEqual({ kind: 'wildcard', parts: ['https://x.no/', '/instances'] });
  });

  it('reads a source without % as that URI and the paths below it', () => {
    expect(accept({ after: '0', source: 'https://x.no/app' }).source).toEqual({
      kind: 'tree',
      uri: 'https://x.no/app',
      below: 'https://x.no/app/',
    });
  });

  it('refuses a resource that is not a valid URN', () => {
    expect(refuse({ after: '0', resource: 'urn:altinn:resource:Upper' })).toEqual([
      { field: 'resource', message: "The 'resource' parameter must be a valid urn." },
    ]);
  });

  it('reads type as one value or a repeated list of patterns', () => {
    expect(accept({ after: '0', resource, type: 'a.created' }).types).toEqual([
      { kind: 'exact', value: 'a.created' },
    ]);
    expect(accept({ after: '0', resource, type: ['a.created', 'b.%'] }).types).toEqual([
      { kind: 'exact', value: 'a.created' },
      { kind: 'wildcard', parts: ['b.', ''] },
    ]);
  });

  it.each([[''], [['a.created', '']]])('refuses an empty type in %j', (type) => {
    expect(refuse({ after: '0', resource, type })).toEqual([
      { field: 'type', message: "The 'type' parameter must not be empty." },
    ]);
  });

  const conflict = [
    { field: 'subject', message: "Only one of 'subject' or 'alternativeSubject' can be defined." },
  ];

  it("refuses subject together with alternativesubject in the query, in Altinn's words", () => {
    expect(refuse({ after: '0', resource, subject: '/party/1', alternativesubject: '/person/1' })).toEqual(
      conflict,
    );
  });

  it('refuses subject together with the Altinn-AlternativeSubject header', () => {
    expect(refuse({ after: '0', resource, subject: '/party/1' }, '/person/1')).toEqual(conflict);
  });

  it('takes the alternative subject from the header, keeping personal numbers out of the URL', () => {
    expect(accept({ after: '0', resource }, '/person/01017012345').alternativesubject).toBe(
      '/person/01017012345',
    );
  });

  it('ignores an empty Altinn-AlternativeSubject header', () => {
    expect(accept({ after: '0', resource, subject: '/party/1' }, '').alternativesubject).toBeUndefined();
  });

  it('prefers the query alternativesubject when the header gives one too', () => {
    expect(
      accept({ after: '0', resource, alternativesubject: '/person/q' }, '/person/h').alternativesubject,
    ).toBe('/person/q');
  });

  it.each([
    ['no size', undefined, 50],
    ['an empty size', '', 50],
    ['1', '1', 1],
    ['0, below 1', '0', 50],
    ['a negative size', '-5', 50],
    ['1000', '1000', 1000],
    ['1001, above the maximum', '1001', 1000],
    ['a huge size', '999999999999', 1000],
    ['surrounding whitespace', ' 20 ', 20],
    ['a number', 25, 25],
    ['the number 0', 0, 50],
    ['the number 5000', 5000, 1000],
  ])('reads size from %s as %i', (_label, size, expected) => {
    expect(accept({ after: '0', resource, size }).size).toBe(expected);
  });

  it('clamps size to the named defaults', () => {
    expect(pollPageSize).toEqual({ default: 50, max: 1000 });
  });

  it.each(['1.5', 'abc', '10a', '1e3', '0x10', '+5', '1 0', 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses the size %j as not an integer',
    (size) => {
      expect(refuse({ after: '0', resource, size })).toEqual([
        { field: 'size', message: "The 'size' parameter must be an integer." },
      ]);
    },
  );

  it('refuses parameters whose percent-decoding is not UTF-8, as the raw query string shows them', () => {
    const parsed = parsePollQuery({ after: '0', resource, subject: '%FF' }, undefined, `after=0&resource=${resource}&subject=%FF`);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.errors).toEqual([{ field: 'subject', message: expect.stringMatching(/not valid UTF-8/) }]);
  });

  it('refuses an Altinn-AlternativeSubject header holding raw characters outside ASCII', () => {
    expect(refuse({ after: '0', resource }, '/person/Ã©')).toEqual([
      { field: 'Altinn-AlternativeSubject', message: expect.stringMatching(/ASCII/) },
    ]);
  });

  it('reports every problem of a poll at once', () => {
    const errors = refuse({ subject: '/a', alternativesubject: '/b', size: 'x', type: '' });
    expect(errors.map((e) => e.field)).toEqual(['after', 'resource', 'type', 'subject', 'size']);
  });
});

describe('examineBound', () => {
  it('shares the rows a read examines among the % patterns checked on each row, down to 100', () => {
    expect(examineBound(10_000, [], undefined)).toBe(10_000);
    expect(examineBound(10_000, [parseTextPattern('exact.type')], parseSourceFilter('https://x/app'))).toBe(10_000);
    expect(examineBound(10_000, [parseTextPattern('%a%'), parseTextPattern('b')], parseSourceFilter('https://x/%/y'))).toBe(5_000);
    expect(examineBound(10_000, Array.from({ length: 100 }, (_, i) => parseTextPattern(`%${i}%`)), undefined)).toBe(100);
    expect(examineBound(10_000, Array.from({ length: 1_000 }, (_, i) => parseTextPattern(`%${i}%`)), undefined)).toBe(100);
  });
});
