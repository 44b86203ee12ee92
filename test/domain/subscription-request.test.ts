import { describe, expect, it } from 'vitest';
import {
  parseSubscriptionRequest,
  subscriptionIdentity,
  subscriptionMessages,
  type SubscriptionRequestRules,
  type SubscriptionSpec,
} from '../../src/domain/subscription-request.js';
import type { FieldError } from '../../src/domain/validation.js';

const push: SubscriptionRequestRules = { allowHttp: false, allowPull: false };
const pushOrPull: SubscriptionRequestRules = { allowHttp: false, allowPull: true };
const development: SubscriptionRequestRules = { allowHttp: true, allowPull: false };

const endpoint = 'https://hooks.example.com/herald';
const resource = 'urn:altinn:resource:ttd-app';
const source = 'https://platform.altinn.no/ttd/app';

/** What a request that does not ask for ordering gets. */
const unordered = { ordering: 'none', onDeadLetter: 'skip' } as const;

const filterFields = [
  'sourceFilter',
  'resourceFilter',
  'subjectFilter',
  'alternativeSubjectFilter',
  'typeFilter',
] as const;

function accepted(body: unknown, rules = push): SubscriptionSpec {
  const parsed = parseSubscriptionRequest(body, rules);
  if (!parsed.ok) throw new Error(`expected the request to be accepted, got ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
}

function refused(body: unknown, rules = push): FieldError[] {
  const parsed = parseSubscriptionRequest(body, rules);
  if (parsed.ok) throw new Error(`expected the request to be refused, got ${JSON.stringify(parsed.value)}`);
  return parsed.errors;
}

describe('parseSubscriptionRequest: what it accepts', () => {
  it('accepts a push subscription with every filter and returns each value as sent', () => {
    expect(
      accepted({
        endPoint: endpoint,
        sourceFilter: source,
        resourceFilter: resource,
        subjectFilter: '/party/1337',
        alternativeSubjectFilter: '/person/01017012345',
        typeFilter: 'app.instance.created',
      }),
    ).toEqual({
      endpoint,
      sourceFilter: source,
      resourceFilter: resource,
      subjectFilter: '/party/1337',
      alternativeSubjectFilter: '/person/01017012345',
      typeFilter: 'app.instance.created',
      ...unordered,
    });
  });

  it('returns null for every filter that is left out', () => {
    expect(accepted({ endPoint: endpoint, resourceFilter: resource })).toEqual({
      endpoint,
      sourceFilter: null,
      resourceFilter: resource,
      subjectFilter: null,
      alternativeSubjectFilter: null,
      typeFilter: null,
      ...unordered,
    });
  });

  it('treats a null field as left out', () => {
    const spec = accepted({ endPoint: endpoint, resourceFilter: resource, sourceFilter: null, typeFilter: null });
    expect(spec.sourceFilter).toBeNull();
    expect(spec.typeFilter).toBeNull();
  });

  it.each(['endpoint', 'ENDPOINT', 'endPoint', 'EndPoint'])('reads the endpoint from a field named %s', (name) => {
    expect(accepted({ [name]: endpoint, resourceFilter: resource }).endpoint).toBe(endpoint);
  });

  it('reads every filter field whatever the case of its name', () => {
    expect(
      accepted({
        ENDPOINT: endpoint,
        SOURCEFILTER: source,
        resourcefilter: resource,
        SubjectFilter: '/party/1',
        alternativesubjectFILTER: '/person/1',
        TypeFilter: 't',
      }),
    ).toEqual({
      endpoint,
      sourceFilter: source,
      resourceFilter: resource,
      subjectFilter: '/party/1',
      alternativeSubjectFilter: '/person/1',
      typeFilter: 't',
      ...unordered,
    });
  });

  it('ignores unknown fields such as consumer and createdBy, which come from the token instead', () => {
    const spec = accepted({
      endPoint: endpoint,
      resourceFilter: resource,
      consumer: '/org/evil',
      createdBy: '/org/evil',
      id: 42,
      validated: true,
    });
    expect(spec).toEqual({
      endpoint,
      sourceFilter: null,
      resourceFilter: resource,
      subjectFilter: null,
      alternativeSubjectFilter: null,
      typeFilter: null,
      ...unordered,
    });
    expect(spec).not.toHaveProperty('consumer');
  });

  it('accepts a source filter alone, without a resource filter', () => {
    const spec = accepted({ endPoint: endpoint, sourceFilter: source });
    expect(spec.sourceFilter).toBe(source);
    expect(spec.resourceFilter).toBeNull();
  });

  it.each([
    'https://platform.altinn.no/ttd/%',
    'https://platform.altinn.no/%/app',
    'https://%.apps.altinn.no/ttd/app',
    'https://platform.altinn.no/ttd/app%',
  ])('accepts the wildcard source filter %s and keeps its %% as sent', (filter) => {
    expect(accepted({ endPoint: endpoint, sourceFilter: filter }).sourceFilter).toBe(filter);
  });

  it('accepts a subscription without an endpoint as a pull subscription when pull is allowed', () => {
    expect(accepted({ resourceFilter: resource }, pushOrPull).endpoint).toBeNull();
  });

  it('accepts a plain http endpoint when http is allowed', () => {
    expect(accepted({ endPoint: 'http://127.0.0.1:9000/hook', resourceFilter: resource }, development).endpoint).toBe(
      'http://127.0.0.1:9000/hook',
    );
  });
});

describe('parseSubscriptionRequest: what it refuses', () => {
  it.each([null, [], 'endPoint', 42, true])('refuses the body %j, which is not a JSON object', (body) => {
    expect(refused(body)).toEqual([{ field: 'body', message: 'A subscription request must be a JSON object.' }]);
  });

  it("refuses a push subscription without an endpoint with Altinn's message", () => {
    expect(refused({ resourceFilter: resource })).toEqual([
      { field: 'endPoint', message: subscriptionMessages.invalidEndpoint },
    ]);
    expect(subscriptionMessages.invalidEndpoint).toBe('Missing or invalid endpoint to push events towards');
  });

  it.each([
    ['not a URL', 'not a url'],
    ['a relative URL', '/hooks/herald'],
    ['a scheme-relative URL', '//hooks.example.com/herald'],
    ['an ftp URL', 'ftp://hooks.example.com/herald'],
    ['a URN', 'urn:altinn:hook'],
    ['a plain http URL when http is not allowed', 'http://hooks.example.com/herald'],
    ['a URL with a user name and password', 'https://user:secret@hooks.example.com/herald'],
    ['a URL with a user name', 'https://user@hooks.example.com/herald'],
  ])("refuses an endpoint that is %s with Altinn's message", (_what, value) => {
    expect(refused({ endPoint: value, resourceFilter: resource })).toEqual([
      { field: 'endPoint', message: subscriptionMessages.invalidEndpoint },
    ]);
  });

  it.each(['', '   '])(
    "refuses the empty endpoint %j with Altinn's message, even where pull subscriptions are allowed",
    (value) => {
      for (const rules of [push, pushOrPull]) {
        expect(refused({ endPoint: value, resourceFilter: resource }, rules)).toEqual([
          { field: 'endPoint', message: subscriptionMessages.invalidEndpoint },
        ]);
      }
    },
  );

  it.each([42, true, {}, ['https://hooks.example.com']])(
    'refuses the non-string endpoint %j once, saying it must be a string',
    (value) => {
      for (const rules of [push, pushOrPull]) {
        expect(refused({ endPoint: value, resourceFilter: resource }, rules)).toEqual([
          { field: 'endPoint', message: "'endPoint' must be a string." },
        ]);
      }
    },
  );

  it('still refuses an http endpoint when http is allowed but the URL carries credentials', () => {
    expect(refused({ endPoint: 'http://u:p@127.0.0.1/hook', resourceFilter: resource }, development)).toEqual([
      { field: 'endPoint', message: subscriptionMessages.invalidEndpoint },
    ]);
  });

  it.each([
    ['a plain http URL when http is not allowed', 'http://platform.altinn.no/ttd/app'],
    ['a relative path', '/ttd/app'],
    ['a bare host name', 'platform.altinn.no/ttd/app'],
    ['a URN', 'urn:altinn:ttd:app'],
    ['an ftp URL', 'ftp://platform.altinn.no/ttd/app'],
    ['a pattern whose scheme is a wildcard, so it cannot be shown to be https', '%/ttd/app'],
    ['a URL with a leading space, which would never match a source', ' https://platform.altinn.no/ttd/app'],
    ['a URL with a trailing space, which would never match a source', 'https://platform.altinn.no/ttd/app '],
    ['a URL with a no-break space inside, which would never match a source', 'https://platform.altinn.no/\u00a0app'],
    ['a URL with a tab inside, which the URL parser drops but matching would not', 'https://platform.altinn.no/\tapp'],
  ])("refuses a source filter that is %s with Altinn's message", (_what, value) => {
    expect(refused({ endPoint: endpoint, sourceFilter: value })).toEqual([
      { field: 'sourceFilter', message: subscriptionMessages.invalidSourceFilter },
    ]);
    expect(subscriptionMessages.invalidSourceFilter).toBe(
      'SourceFilter must be an absolute URL with the https scheme.',
    );
  });

  it.each([
    ['upper-case letters', 'urn:altinn:resource:TTD-app'],
    ['no colon-separated parts', 'urn:altinn'],
    ['a missing urn: prefix', 'altinn:resource:ttd'],
    ['a URL', 'https://platform.altinn.no/ttd/app'],
    ['a space', 'urn:altinn:resource:ttd app'],
  ])("refuses a resource filter with %s with Altinn's message", (_what, value) => {
    expect(refused({ endPoint: endpoint, resourceFilter: value })).toEqual([
      { field: 'resourceFilter', message: subscriptionMessages.invalidResourceFilter },
    ]);
    expect(subscriptionMessages.invalidResourceFilter).toBe('Resource filter must be a valid urn');
  });

  it("refuses a subscription with neither a resource nor a source filter with Altinn's message", () => {
    expect(refused({ endPoint: endpoint, subjectFilter: '/party/1', typeFilter: 't' })).toEqual([
      { field: 'resourceFilter', message: subscriptionMessages.missingFilter },
    ]);
    expect(subscriptionMessages.missingFilter).toBe('Resource filter is required.');
  });

  it('does not also say the resource filter is required when the given resource or source filter is invalid', () => {
    expect(refused({ endPoint: endpoint, resourceFilter: 'urn:X' }).map((e) => e.message)).toEqual([
      subscriptionMessages.invalidResourceFilter,
    ]);
    expect(refused({ endPoint: endpoint, sourceFilter: 'ftp://x/y' }).map((e) => e.message)).toEqual([
      subscriptionMessages.invalidSourceFilter,
    ]);
  });

  it.each(filterFields)('refuses an empty-string %s instead of storing a filter that never matches', (field) => {
    for (const value of ['', ' ', '\t']) {
      const errors = refused({ endPoint: endpoint, resourceFilter: resource, sourceFilter: source, [field]: value });
      expect(errors).toContainEqual({ field, message: expect.stringContaining('must not be empty') });
      expect(errors.every((e) => e.field === field)).toBe(true);
    }
  });

  it.each(filterFields)('refuses a %s that is not a string', (field) => {
    for (const value of [42, false, { urn: resource }, [resource]]) {
      const errors = refused({ endPoint: endpoint, resourceFilter: resource, sourceFilter: source, [field]: value });
      expect(errors).toContainEqual({ field, message: `'${field}' must be a string.` });
      expect(errors.every((e) => e.field === field)).toBe(true);
    }
  });

  const controlCharacters = ['\u0000', '\t', '\n', '\u001b', '\u007f', '\u0085'];

  it.each(['subjectFilter', 'alternativeSubjectFilter', 'typeFilter'] as const)(
    'refuses control characters in %s, which PostgreSQL cannot store or no event can match',
    (field) => {
      for (const character of controlCharacters) {
        const errors = refused({ endPoint: endpoint, resourceFilter: resource, [field]: `/party/1${character}x` });
        expect(errors).toEqual([{ field, message: `'${field}' must not hold control characters.` }]);
      }
    },
  );

  it.each([
    ['sourceFilter', source, subscriptionMessages.invalidSourceFilter],
    ['resourceFilter', resource, subscriptionMessages.invalidResourceFilter],
  ] as const)("refuses control characters in %s with Altinn's message", (field, base, message) => {
    for (const character of controlCharacters) {
      const body = { endPoint: endpoint, resourceFilter: resource, sourceFilter: source, [field]: `${base}${character}` };
      expect(refused(body)).toEqual([{ field, message }]);
    }
  });

  it.each(['\u0000', '\t', '\n', '\r'])(
    "refuses the control character %j in an endpoint with Altinn's message, though the URL parser would drop it",
    (character) => {
      expect(refused({ endPoint: `https://hooks.example.com/a${character}b`, resourceFilter: resource })).toEqual([
        { field: 'endPoint', message: subscriptionMessages.invalidEndpoint },
      ]);
    },
  );

  it('names the field in the spelling of the API, whatever the case the request used', () => {
    expect(refused({ endPoint: endpoint, resourcefilter: resource, TYPEFILTER: '' })).toEqual([
      { field: 'typeFilter', message: expect.stringContaining('must not be empty') },
    ]);
  });

  it.each([
    ['endPoint', `${endpoint}/${'a'.repeat(2048)}`, subscriptionMessages.invalidEndpoint],
    ['sourceFilter', `${source}/${'a'.repeat(1024)}`, 'SourceFilter must be an absolute URL with the https scheme'],
    ['subjectFilter', `/party/${'€'.repeat(400)}`, undefined],
    ['alternativeSubjectFilter', `/person/${'1'.repeat(1100)}`, undefined],
    ['typeFilter', 't'.repeat(1025), undefined],
  ])('refuses a %s over its limit in bytes, keeping Altinn\'s wording first where it has one', (field, value, altinn) => {
    const [error, ...others] = refused({ endPoint: endpoint, resourceFilter: resource, [field]: value });
    expect(others).toEqual([]);
    expect(error?.field).toBe(field);
    expect(error?.message).toMatch(new RegExp(`'${field}' must be at most \\d+ bytes of UTF-8 text`));
    if (altinn) expect(error?.message.startsWith(altinn)).toBe(true);
  });

  it('accepts filters at their limits', () => {
    expect(accepted({ endPoint: endpoint, resourceFilter: resource, subjectFilter: 's'.repeat(1024) }).subjectFilter).toHaveLength(1024);
  });

  it('reports every fault of a request at once', () => {
    const errors = refused({ endPoint: 'ftp://x', sourceFilter: 'http://x', resourceFilter: 'nope', typeFilter: 1 });
    expect(errors).toEqual(
      expect.arrayContaining([
        { field: 'endPoint', message: subscriptionMessages.invalidEndpoint },
        { field: 'sourceFilter', message: subscriptionMessages.invalidSourceFilter },
        { field: 'resourceFilter', message: subscriptionMessages.invalidResourceFilter },
        { field: 'typeFilter', message: "'typeFilter' must be a string." },
      ]),
    );
    expect(errors).toHaveLength(4);
  });
});

describe('subscriptionIdentity', () => {
  const spec: SubscriptionSpec = {
    endpoint,
    sourceFilter: source,
    resourceFilter: resource,
    subjectFilter: '/party/1',
    alternativeSubjectFilter: null,
    typeFilter: 'app.instance.created',
  };

  it('is the same for equal consumers and specs, even as different objects', () => {
    expect(subscriptionIdentity('/org/ttd', spec)).toBe(subscriptionIdentity('/org/ttd', { ...spec }));
  });

  it('is a SHA-256 in hex, fit for a unique column', () => {
    expect(subscriptionIdentity('/org/ttd', spec)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs when the consumer differs', () => {
    expect(subscriptionIdentity('/org/ttd', spec)).not.toBe(subscriptionIdentity('/org/skd', spec));
  });

  it.each([
    ['endpoint', 'https://other.example.com/hook'],
    ['endpoint', null],
    ['sourceFilter', 'https://platform.altinn.no/ttd/other'],
    ['sourceFilter', null],
    ['resourceFilter', 'urn:altinn:resource:other'],
    ['resourceFilter', null],
    ['subjectFilter', '/party/2'],
    ['subjectFilter', null],
    ['alternativeSubjectFilter', '/person/1'],
    ['typeFilter', 'app.instance.deleted'],
    ['typeFilter', null],
  ] as const)('differs when %s becomes %j', (field, value) => {
    expect(subscriptionIdentity('/org/ttd', { ...spec, [field]: value })).not.toBe(
      subscriptionIdentity('/org/ttd', spec),
    );
  });

  it('tells a missing filter from the string "null"', () => {
    expect(subscriptionIdentity('/org/ttd', { ...spec, alternativeSubjectFilter: 'null' })).not.toBe(
      subscriptionIdentity('/org/ttd', spec),
    );
  });

  it('tells apart the same value under different filters', () => {
    const bare = { ...spec, subjectFilter: null, typeFilter: null };
    expect(subscriptionIdentity('/org/ttd', { ...bare, subjectFilter: 'x' })).not.toBe(
      subscriptionIdentity('/org/ttd', { ...bare, typeFilter: 'x' }),
    );
  });

  it('differs when the ordering or its dead-letter policy differs', () => {
    const bySubject = subscriptionIdentity('/org/ttd', { ...spec, ordering: 'subject' });
    expect(bySubject).not.toBe(subscriptionIdentity('/org/ttd', spec));
    expect(bySubject).not.toBe(subscriptionIdentity('/org/ttd', { ...spec, ordering: 'partitionkey' }));
    expect(bySubject).not.toBe(subscriptionIdentity('/org/ttd', { ...spec, ordering: 'subject', onDeadLetter: 'block' }));
    expect(bySubject).toBe(subscriptionIdentity('/org/ttd', { ...spec, ordering: 'subject', onDeadLetter: 'skip' }));
  });

  it('is what it was before ordering existed for an unordered subscription, so asking again finds the old one', () => {
    expect(subscriptionIdentity('/org/ttd', { ...spec, ordering: 'none', onDeadLetter: 'skip' })).toBe(
      subscriptionIdentity('/org/ttd', spec),
    );
  });

  it('cannot be forged by moving text between the consumer and a field', () => {
    expect(subscriptionIdentity('/org/ttd","x', { ...spec, endpoint: null })).not.toBe(
      subscriptionIdentity('/org/ttd', { ...spec, endpoint: 'x' }),
    );
  });
});

describe('source filters are https even where http endpoints are allowed', () => {
  it('refuses an http sourceFilter with allowHttp on, since it concerns where Herald sends, not what it matches', () => {
    const parsed = parseSubscriptionRequest(
      { endPoint: 'http://127.0.0.1/hook', sourceFilter: 'http://example.com/app' },
      { allowHttp: true, allowPull: false },
    );
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors).toEqual([{ field: 'sourceFilter', message: 'SourceFilter must be an absolute URL with the https scheme.' }]);
  });
});

describe('parseSubscriptionRequest: ordering', () => {
  it.each(['subject', 'partitionkey'] as const)('accepts ordering by %s, moving on after dead letters by default', (ordering) => {
    expect(accepted({ endPoint: endpoint, resourceFilter: resource, ordering })).toMatchObject({ ordering, onDeadLetter: 'skip' });
  });

  it('accepts a key that stops at its dead letters, and reads both fields whatever the case of their names', () => {
    expect(accepted({ endPoint: endpoint, resourceFilter: resource, ORDERING: 'subject', OnDeadLetter: 'block' })).toMatchObject({
      ordering: 'subject',
      onDeadLetter: 'block',
    });
  });

  it("accepts 'none' and 'skip' said out loud, and a null as left out", () => {
    expect(accepted({ endPoint: endpoint, resourceFilter: resource, ordering: 'none', onDeadLetter: 'skip' })).toMatchObject(unordered);
    expect(accepted({ endPoint: endpoint, resourceFilter: resource, ordering: null, onDeadLetter: null })).toMatchObject(unordered);
  });

  it.each([['Subject'], ['type'], [''], [1], [true], [['subject']], [{}]])('refuses ordering %j, naming the values it takes', (ordering) => {
    expect(refused({ endPoint: endpoint, resourceFilter: resource, ordering })).toEqual([
      { field: 'ordering', message: "'ordering' must be one of 'none', 'subject', 'partitionkey'." },
    ]);
  });

  it.each([['stop'], ['BLOCK'], [0]])('refuses onDeadLetter %j', (onDeadLetter) => {
    expect(refused({ endPoint: endpoint, resourceFilter: resource, ordering: 'subject', onDeadLetter })).toEqual([
      { field: 'onDeadLetter', message: "'onDeadLetter' must be one of 'skip', 'block'." },
    ]);
  });

  it("refuses 'block' without ordering: there is no key to stop", () => {
    expect(refused({ endPoint: endpoint, resourceFilter: resource, onDeadLetter: 'block' })[0]?.field).toBe('onDeadLetter');
  });

  it('refuses ordering on a pull subscription, whose queue is read in log order already', () => {
    expect(refused({ resourceFilter: resource, ordering: 'subject' }, pushOrPull)).toEqual([
      { field: 'ordering', message: "'ordering' applies to push subscriptions: a pull subscription's queue is read in log order already." },
    ]);
    expect(accepted({ resourceFilter: resource, ordering: 'none' }, pushOrPull).ordering).toBe('none');
  });
});
