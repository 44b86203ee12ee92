import { describe, expect, it } from 'vitest';
import { parseCloudEvent, parseRfc3339 } from '../../src/domain/cloudevent.js';
import { hasLoneSurrogate } from '../../src/domain/unicode-text.js';
import { seededRandom } from '../support/random.js';

const minimal = {
  specversion: '1.0',
  id: 'e-1',
  source: 'https://api.example.no/things/1',
  type: 'no.example.thing.created',
  resource: 'urn:altinn:resource:example',
};

/** The example event of Altinn's publishing guide (spec 002), attribute order as printed there. */
const altinnSpecExample = {
  id: '288f71f2-8cbd-3442-1532-ac14f3fd9faa',
  type: 'no.altinn.events.digitalt-dodsbo.opprettet',
  resource: 'urn:altinn:resource:dodsbo.domstoladmin.api',
  resourceinstance: '91f2388f-bd8c-4647-8684-fd9f68af5b14',
  alternativesubject: '/person/16069412345',
  source: 'https://api.domstol.no/dodsbo-api/v1/dodsbo/91f2388f-bd8c-4647-8684-fd9f68af5b14',
  time: '2020-02-20T08:00:06.4014168Z',
  specversion: '1.0',
};

function accept(input: Record<string, unknown>) {
  const parsed = parseCloudEvent(input);
  if (!parsed.ok) throw new Error(`expected the event to be accepted: ${JSON.stringify(parsed.errors)}`);
  return { ...parsed.value, stored: JSON.parse(parsed.value.payload) as Record<string, unknown> };
}

function refuse(input: unknown, fieldPrefix?: string) {
  const parsed = parseCloudEvent(input, fieldPrefix);
  if (parsed.ok) throw new Error('expected the event to be refused');
  return parsed.errors;
}

describe('parseCloudEvent: limits and text', () => {
  it.each([
    ['id', 'a'.repeat(1025)],
    ['subject', '€'.repeat(342)],
    ['type', 't'.repeat(1025)],
    ['time', `2020-02-20T08:00:06.${'1'.repeat(60)}Z`],
    ['myext', 'v'.repeat(4097)],
  ])('refuses a %s over its limit, naming it and the limit', (name, value) => {
    expect(refuse({ ...minimal, [name]: value })).toEqual([
      { field: name, message: expect.stringMatching(new RegExp(`^'${name}' must be at most \\d+ bytes of UTF-8 text; it is \\d+\\.$`)) },
    ]);
  });

  it('accepts values at their limits', () => {
    expect(accept({ ...minimal, id: 'a'.repeat(1024), subject: '😀'.repeat(256), myext: 'v'.repeat(4096) }).id).toHaveLength(1024);
  });

  it('does not limit data_base64 or data apart: the event size does', () => {
    expect(accept({ ...minimal, data_base64: 'aGVs'.repeat(5000) }).stored.data_base64).toHaveLength(20_000);
    expect(accept({ ...minimal, data: 'x'.repeat(20_000) }).stored.data).toHaveLength(20_000);
  });

  it('refuses an extension name over 128 characters', () => {
    const name = 'x'.repeat(129);
    expect(refuse({ ...minimal, [name]: 1 })).toEqual([{ field: name, message: expect.stringMatching(/at most 128 characters/) }]);
  });

  it('refuses unpaired surrogates in any attribute, and anywhere in data, naming the attribute with its prefix', () => {
    const [error] = refuse({ ...minimal, id: '\ud800' }, '[2].');
    expect(error).toEqual({ field: '[2].id', message: expect.stringMatching(/unpaired surrogate \(such as the JSON escape \\ud800 /) });
    expect(hasLoneSurrogate(error?.message ?? ''), 'the message itself is well-formed text').toBe(false);
    expect(refuse({ ...minimal, data: { a: [{ '\udc00': 1 }] } })).toEqual([
      { field: 'data', message: expect.stringMatching(/unpaired surrogate at a\[0\]\./) },
    ]);
  });

  it('accepts a literal backslash-u-d in text, which is no surrogate', () => {
    expect(accept({ ...minimal, subject: '\\ud800' }).subject).toBe('\\ud800');
  });
});

describe('parseCloudEvent: the accepted event', () => {
  it("accepts the example event of Altinn's publishing guide and keeps every attribute in order", () => {
    const event = accept(altinnSpecExample);
    expect(event).toMatchObject({
      id: '288f71f2-8cbd-3442-1532-ac14f3fd9faa',
      source: altinnSpecExample.source,
      type: 'no.altinn.events.digitalt-dodsbo.opprettet',
      resource: 'urn:altinn:resource:dodsbo.domstoladmin.api',
      subject: null,
      alternativesubject: '/person/16069412345',
      time: '2020-02-20T08:00:06.401Z',
    });
    expect(event.payload).toBe(JSON.stringify(altinnSpecExample));
  });

  it('accepts the required attributes alone and leaves the optional columns null', () => {
    const event = accept(minimal);
    expect(event).toMatchObject({ subject: null, alternativesubject: null, time: null });
    expect(event.stored).toEqual(minimal);
  });

  it('keeps the attributes in the order the producer sent them', () => {
    const { type, ...rest } = minimal;
    const event = accept({ type, zeta: 'z', ...rest, alpha: 'a', subject: '/s' });
    expect(Object.keys(event.stored)).toEqual([
      'type',
      'zeta',
      'specversion',
      'id',
      'source',
      'resource',
      'alpha',
      'subject',
    ]);
  });

  it('treats a null attribute as unset and leaves it out of the payload', () => {
    const event = accept({ ...minimal, subject: null, time: null, datacontenttype: null, myext: null });
    expect(event.stored).toEqual(minimal);
    expect(event.payload).not.toContain('null');
  });

  it('fills the subject and alternativesubject columns the log is queried by', () => {
    const event = accept({ ...minimal, subject: '/party/1', alternativesubject: '/person/01017012345' });
    expect(event.subject).toBe('/party/1');
    expect(event.alternativesubject).toBe('/person/01017012345');
  });
});

describe('parseCloudEvent: required attributes', () => {
  it.each(['specversion', 'id', 'source', 'type'])(
    "refuses an event without '%s', in CloudEvents' wording",
    (name) => {
      const { [name as keyof typeof minimal]: _, ...rest } = minimal;
      expect(refuse(rest)).toEqual([
        { field: name, message: `CloudEvent is missing required attributes: ${name}` },
      ]);
    },
  );

  it("refuses an event without 'resource' with Altinn's message", () => {
    const { resource: _, ...rest } = minimal;
    expect(refuse(rest)).toEqual([{ field: 'resource', message: "A 'resource' property must be defined." }]);
  });

  it('counts a required attribute set to null as missing', () => {
    expect(refuse({ ...minimal, id: null, resource: null })).toEqual([
      { field: 'id', message: 'CloudEvent is missing required attributes: id' },
      { field: 'resource', message: "A 'resource' property must be defined." },
    ]);
  });

  it('reports every missing attribute of an empty object at once', () => {
    expect(refuse({}).map((e) => e.field)).toEqual(['specversion', 'id', 'source', 'type', 'resource']);
  });

  it.each([
    ['an upper-case URN', 'urn:altinn:resource:Example'],
    ['a URN without a namespace-specific part', 'urn:altinn'],
    ['a URL', 'https://example.com/resource'],
    ['an empty string', ''],
    ['a number', 42],
  ])("refuses %s as 'resource' with Altinn's message", (_label, resource) => {
    expect(refuse({ ...minimal, resource })).toEqual([
      { field: 'resource', message: "'Resource' must be a valid urn." },
    ]);
  });

  it.each([['0.3'], ['1'], ['1.0.2'], [1.0], [1]])("refuses specversion %j: only '1.0' is accepted", (v) => {
    expect(refuse({ ...minimal, specversion: v })).toEqual([
      {
        field: 'specversion',
        message: "'specversion' must be '1.0', the only CloudEvents version Herald accepts.",
      },
    ]);
  });

  it.each(['id', 'type'])("refuses an empty or non-string '%s'", (name) => {
    for (const value of ['', 7, true, { a: 1 }]) {
      expect(refuse({ ...minimal, [name]: value })).toEqual([
        { field: name, message: `'${name}' must be a non-empty string.` },
      ]);
    }
  });

  it('reports a wrong attribute once, not also as missing', () => {
    expect(refuse({ ...minimal, id: '' })).toHaveLength(1);
  });

  it('reports every problem of an event at once', () => {
    const errors = refuse({ specversion: '2.0', id: '', source: 'a b', time: 'yesterday' });
    expect(errors.map((e) => e.field)).toEqual(['specversion', 'id', 'source', 'time', 'type', 'resource']);
  });
});

describe('parseCloudEvent: source', () => {
  it.each([
    'https://api.domstol.no/dodsbo-api/v1/dodsbo/91f2388f',
    'urn:altinn:app:ttd.app',
    '/relative/path',
    'relative',
    'https://x.no/a%20b?q=1&r=[2]#frag',
    "mailto:o'brien@example.com",
  ])("accepts the URI-reference '%s'", (source) => {
    expect(accept({ ...minimal, source }).source).toBe(source);
  });

  it.each([
    ['a space', 'https://x.no/a b'],
    ['a broken percent escape', 'https://x.no/%zz'],
    ['a lone percent sign', 'https://x.no/100%'],
    ['a non-ASCII character', 'https://x.no/blåbær'],
    ['angle brackets', 'https://x.no/<a>'],
    ['an empty string', ''],
    ['a number', 12],
  ])('refuses a source with %s', (_label, source) => {
    expect(refuse({ ...minimal, source })).toEqual([
      { field: 'source', message: "'source' must be a URI-reference." },
    ]);
  });
});

describe('parseCloudEvent: optional attributes', () => {
  it('keeps a valid time as sent in the payload and as UTC milliseconds in the time column', () => {
    const event = accept({ ...minimal, time: '2021-03-04T05:06:07.1234567+02:00' });
    expect(event.time).toBe('2021-03-04T03:06:07.123Z');
    expect(event.stored.time).toBe('2021-03-04T05:06:07.1234567+02:00');
  });

  it.each([
    ['an impossible date', '2021-02-30T10:00:00Z'],
    ['no offset', '2021-02-03T10:00:00'],
    ['a date only', '2021-02-03'],
    ['a space instead of T', '2021-02-03 10:00:00Z'],
    ['a number', 1_612_346_400_000],
  ])('refuses a time with %s', (_label, time) => {
    expect(refuse({ ...minimal, time })).toEqual([
      { field: 'time', message: "'time' must be an RFC 3339 timestamp." },
    ]);
  });

  it.each(['subject', 'resourceinstance', 'alternativesubject'])("refuses an empty '%s'", (name) => {
    expect(refuse({ ...minimal, [name]: '' })).toEqual([
      { field: name, message: `'${name}' must be a non-empty string.` },
    ]);
  });

  it.each(['application/json', 'text/plain; charset=utf-8', 'application/vnd.example+json'])(
    "accepts datacontenttype '%s'",
    (datacontenttype) => {
      expect(accept({ ...minimal, datacontenttype }).stored.datacontenttype).toBe(datacontenttype);
    },
  );

  it.each(['json', '', 'text /plain', 5])('refuses datacontenttype %j', (datacontenttype) => {
    expect(refuse({ ...minimal, datacontenttype })).toEqual([
      { field: 'datacontenttype', message: "'datacontenttype' must be a media type." },
    ]);
  });

  it('accepts an absolute dataschema and refuses a relative one', () => {
    expect(accept({ ...minimal, dataschema: 'https://schemas.example.no/thing.json' }).stored).toHaveProperty(
      'dataschema',
    );
    expect(refuse({ ...minimal, dataschema: '/thing.json' })).toEqual([
      { field: 'dataschema', message: "'dataschema' must be an absolute URI." },
    ]);
  });
});

describe('parseCloudEvent: data', () => {
  it.each([
    ['an object', { a: 1, nested: { b: [true, null] } }],
    ['an array', [1, 'two', { three: 3 }]],
    ['a string', 'hello'],
    ['an empty string', ''],
    ['a number', 3.25],
    ['zero', 0],
    ['true', true],
    ['false', false],
  ])('keeps data that is %s with its JSON type', (_label, data) => {
    expect(accept({ ...minimal, data }).stored.data).toEqual(data);
  });

  it('keeps data: null, which is not the same as no data (JSON format §3.1.1)', () => {
    expect(accept({ ...minimal, data: null }).stored).toHaveProperty('data', null);
    expect(accept(minimal).stored).not.toHaveProperty('data');
  });

  it('drops a null data next to data_base64: the bytes are the data', () => {
    const stored = accept({ ...minimal, data: null, data_base64: 'aGk=' }).stored;
    expect(stored).not.toHaveProperty('data');
    expect(stored.data_base64).toBe('aGk=');
  });

  it.each(['aGVsbG8=', 'aGk=', 'AAEC', ''])("accepts the base64 data_base64 '%s'", (data_base64) => {
    expect(accept({ ...minimal, data_base64 }).stored.data_base64).toBe(data_base64);
  });

  it.each([
    ['not base64 at all', 'not base64!'],
    ['a length that is not a multiple of 4', 'aGVsbG8'],
    ['the URL-safe alphabet', 'a-_b'],
    ['padding in the middle', 'aG==aGk='],
    ['a number', 1234],
  ])('refuses data_base64 with %s', (_label, data_base64) => {
    expect(refuse({ ...minimal, data_base64 })).toEqual([
      { field: 'data_base64', message: "'data_base64' must be base64-encoded bytes." },
    ]);
  });

  it('refuses data and data_base64 together', () => {
    expect(refuse({ ...minimal, data: { a: 1 }, data_base64: 'aGk=' })).toEqual([
      { field: 'data_base64', message: "'data' and 'data_base64' cannot both be set." },
    ]);
  });

  it('accepts data_base64 beside a data that is null, since null means unset', () => {
    expect(accept({ ...minimal, data: null, data_base64: 'aGk=' }).stored).not.toHaveProperty('data');
  });
});

describe('parseCloudEvent: extension attributes', () => {
  it.each([
    ['a string', 'value'],
    ['an integer', 42],
    ['a negative fraction', -1.5],
    ['true', true],
    ['false', false],
    ['an empty string', ''],
  ])('keeps an extension that is %s verbatim with its JSON type', (_label, value) => {
    expect(accept({ ...minimal, myextension: value }).stored.myextension).toStrictEqual(value);
  });

  it('accepts extension names longer than 20 characters and names of digits only', () => {
    const stored = accept({ ...minimal, averyveryverylongextensionname2024: 'x', '123': 'y' }).stored;
    expect(stored).toMatchObject({ averyveryverylongextensionname2024: 'x', '123': 'y' });
  });

  it.each(['myExtension', 'my-extension', 'my_extension', 'ext.name', 'ünicode', ''])(
    "refuses the extension name '%s'",
    (name) => {
      expect(refuse({ ...minimal, [name]: 'x' })).toEqual([
        {
          field: name,
          message: `'${name}' is not a valid attribute name: use lower-case letters a-z and digits 0-9 only.`,
        },
      ]);
    },
  );

  it.each([
    ['an object', { a: 1 }],
    ['an array', ['a']],
  ])('refuses an extension value that is %s', (_label, value) => {
    expect(refuse({ ...minimal, myext: value })).toEqual([
      { field: 'myext', message: "'myext' must be a string, a number or a boolean." },
    ]);
  });

  it("accepts 'constructor' as an ordinary extension, not as Object.prototype's member", () => {
    expect(accept({ ...minimal, constructor: 5 }).stored.constructor).toBe(5);
  });

  it.each(['__proto__', 'hasOwnProperty', 'valueOf', 'toString'])(
    "refuses '%s' as an invalid attribute name instead of crashing",
    (name) => {
      const input = JSON.parse(`{"specversion":"1.0","id":"1","source":"s","type":"t",
        "resource":"urn:a:b","${name}":5}`) as unknown;
      expect(refuse(input)).toEqual([
        {
          field: name,
          message: `'${name}' is not a valid attribute name: use lower-case letters a-z and digits 0-9 only.`,
        },
      ]);
    },
  );
});

describe('parseCloudEvent: input shape and field names', () => {
  it.each([
    ['null', null],
    ['an array', [minimal]],
    ['a string', 'event'],
    ['a number', 1],
  ])('refuses %s as the body: a CloudEvent is a JSON object', (_label, input) => {
    expect(refuse(input)).toEqual([{ field: 'body', message: 'A CloudEvent must be a JSON object.' }]);
  });

  it('names a non-object batch item by its index', () => {
    expect(refuse('event', '[2].')).toEqual([
      { field: '[2]', message: 'A CloudEvent must be a JSON object.' },
    ]);
  });

  it('prefixes every field name with the batch index it was given', () => {
    const errors = refuse({ ...minimal, id: undefined, resource: 'URN:X', time: 'now' }, '[3].');
    expect(errors.map((e) => e.field)).toEqual(['[3].resource', '[3].time', '[3].id']);
  });
});

describe('parseRfc3339', () => {
  it.each([
    [
      'seven fractional digits, as .NET writes them',
      '2020-02-20T08:00:06.4014168Z',
      '2020-02-20T08:00:06.401Z',
    ],
    ['nine fractional digits', '2020-02-20T08:00:06.123456789Z', '2020-02-20T08:00:06.123Z'],
    ['one fractional digit', '2020-02-20T08:00:06.5Z', '2020-02-20T08:00:06.500Z'],
    ['no fraction', '2020-02-20T08:00:06Z', '2020-02-20T08:00:06.000Z'],
    ['lower-case t and z', '2020-02-20t08:00:06z', '2020-02-20T08:00:06.000Z'],
    ['a positive offset', '2020-01-01T00:00:00+05:30', '2019-12-31T18:30:00.000Z'],
    ['a negative offset', '2020-01-01T20:00:00-08:00', '2020-01-02T04:00:00.000Z'],
    ['the unknown-local-offset -00:00', '2020-01-01T00:00:00-00:00', '2020-01-01T00:00:00.000Z'],
    ['a leap day', '2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
    ['a leap second, stored as the next second', '2016-12-31T23:59:60Z', '2017-01-01T00:00:00.000Z'],
    ['a leap second with an offset', '2016-12-31T23:59:60.5+01:00', '2016-12-31T23:00:00.500Z'],
    ['the last day of a 31-day month', '2021-12-31T23:59:59Z', '2021-12-31T23:59:59.000Z'],
  ])('accepts a timestamp with %s', (_label, text, expected) => {
    expect(parseRfc3339(text)).toBe(expected);
  });

  it.each([
    ['February 30', '2021-02-30T00:00:00Z'],
    ['February 29 of a common year', '2023-02-29T00:00:00Z'],
    ['April 31', '2021-04-31T00:00:00Z'],
    ['month 00', '2021-00-10T00:00:00Z'],
    ['month 13', '2021-13-01T00:00:00Z'],
    ['day 00', '2021-01-00T00:00:00Z'],
    ['hour 24', '2021-01-01T24:00:00Z'],
    ['minute 60', '2021-01-01T10:60:00Z'],
    ['second 61', '2021-01-01T10:00:61Z'],
    ['no offset', '2021-01-01T10:00:00'],
    ['an offset without a colon', '2021-01-01T10:00:00+0100'],
    ['offset hour 24', '2021-01-01T10:00:00+24:00'],
    ['offset minute 60', '2021-01-01T10:00:00+01:60'],
    ['a dot without digits', '2021-01-01T10:00:00.Z'],
    ['a space for T', '2021-01-01 10:00:00Z'],
    ['the basic format', '20210101T100000Z'],
    ['one-digit month', '2021-1-01T10:00:00Z'],
    ['a date only', '2021-01-01'],
    ['surrounding whitespace', ' 2021-01-01T10:00:00Z'],
    ['an empty string', ''],
  ])('refuses a timestamp with %s', (_label, text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });

  it('agrees with Date.parse on 5,000 seeded random timestamps, offsets and fractions', () => {
    const random = seededRandom(3339);
    const pad = (n: number, width = 2) => String(n).padStart(width, '0');
    for (let i = 0; i < 5_000; i++) {
      const int = (max: number) => Math.floor(random.next() * max);
      const year = 1000 + int(9000);
      const month = 1 + int(12);
      const day = 1 + int(28);
      const fraction = random.chance(0.5) ? `.${String(int(1_000_000)).padStart(6, '0').slice(0, 1 + int(6))}` : '';
      const offset = random.pick(['Z', `+${pad(int(24))}:${pad(int(60))}`, `-${pad(int(24))}:${pad(int(60))}`]);
      const text = `${year}-${pad(month)}-${pad(day)}T${pad(int(24))}:${pad(int(60))}:${pad(int(60))}${fraction}${offset}`;
      const expected = new Date(Date.parse(text));
      const within = expected.getUTCFullYear() >= 1 && expected.getUTCFullYear() <= 9999;
      expect(parseRfc3339(text), text).toBe(within ? expected.toISOString() : undefined);
    }
  });

  it('reads years below 100 as themselves, not as 19xx', () => {
    expect(parseRfc3339('0050-03-01T00:00:00Z')).toBe('0050-03-01T00:00:00.000Z');
    expect(parseRfc3339('0004-02-29T00:00:00Z')).toBe('0004-02-29T00:00:00.000Z');
    expect(parseRfc3339('0001-01-01T00:00:00+01:00')).toBeUndefined();
  });
});
