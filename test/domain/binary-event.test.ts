import { describe, expect, it } from 'vitest';
import { hasCeHeaders, parseBinaryEvent } from '../../src/domain/binary-event.js';
import { parseMediaType } from '../../src/domain/media-type.js';

type Headers = Record<string, string | string[] | undefined>;

const ceHeaders: Headers = {
  'ce-specversion': '1.0',
  'ce-id': 'b-1',
  'ce-source': 'https://api.example.no/things/1',
  'ce-type': 'no.example.thing.created',
  'ce-resource': 'urn:altinn:resource:example',
};

function parse(headers: Headers, contentType?: string, body?: Buffer) {
  return parseBinaryEvent(headers, contentType, parseMediaType(contentType), body);
}

function accept(headers: Headers, contentType?: string, body?: Buffer) {
  const parsed = parse(headers, contentType, body);
  if (!parsed.ok) throw new Error(`expected the event to be accepted: ${JSON.stringify(parsed.errors)}`);
  return { ...parsed.value, stored: JSON.parse(parsed.value.payload) as Record<string, unknown> };
}

function refuse(headers: Headers, contentType?: string, body?: Buffer) {
  const parsed = parse(headers, contentType, body);
  if (parsed.ok) throw new Error('expected the event to be refused');
  return parsed.errors;
}

describe('hasCeHeaders', () => {
  it('sees a ce- header whatever its case', () => {
    expect(hasCeHeaders({ 'content-type': 'text/plain', 'ce-id': '1' })).toBe(true);
    expect(hasCeHeaders({ 'CE-Id': '1' })).toBe(true);
  });

  it('ignores headers that merely start with the letters ce', () => {
    expect(hasCeHeaders({ cert: 'x', ce_id: '1', 'content-encoding': 'gzip', 'x-ce-id': '1' })).toBe(false);
    expect(hasCeHeaders({})).toBe(false);
  });
});

describe('parseBinaryEvent: attributes from headers', () => {
  it('reads every attribute from its ce- header, in header order', () => {
    const event = accept({ ...ceHeaders, 'ce-subject': '/party/1', host: 'herald' });
    expect(event).toMatchObject({ id: 'b-1', type: 'no.example.thing.created', subject: '/party/1' });
    expect(Object.keys(event.stored)).toEqual(['specversion', 'id', 'source', 'type', 'resource', 'subject']);
  });

  it('matches ce- header names case-insensitively', () => {
    expect(accept({ ...ceHeaders, 'CE-Subject': '/party/2' }).stored.subject).toBe('/party/2');
  });

  it('percent-decodes header values once', () => {
    const stored = accept({ ...ceHeaders, 'ce-subject': '/person/%C3%A6%20%2541', 'ce-myext': 'a+b' }).stored;
    expect(stored.subject).toBe('/person/æ %41');
    expect(stored.myext).toBe('a+b');
  });

  it('needs a source holding an escape to be percent-encoded twice, since headers are decoded once', () => {
    expect(accept({ ...ceHeaders, 'ce-source': 'https://x.no/a%2520b' }).source).toBe('https://x.no/a%20b');
    expect(refuse({ ...ceHeaders, 'ce-source': 'https://x.no/a%20b' })).toEqual([
      { field: 'ce-source', message: "'source' must be a URI-reference." },
    ]);
  });

  it.each(['%', '%zz', '%E0%A4%A', '%C3'])(
    "refuses the invalid percent-encoding '%s', naming the header as sent",
    (value) => {
      expect(refuse({ ...ceHeaders, 'Ce-Subject': value })).toEqual([
        { field: 'Ce-Subject', message: "Header 'Ce-Subject' holds an invalid percent-encoding." },
      ]);
    },
  );

  it('joins a repeated header with commas and skips headers without a value', () => {
    const stored = accept({ ...ceHeaders, 'ce-tags': ['a', 'b'], 'ce-subject': undefined }).stored;
    expect(stored.tags).toBe('a,b');
    expect(stored).not.toHaveProperty('subject');
  });

  it('keeps extension values as strings, since headers carry no JSON types', () => {
    const stored = accept({ ...ceHeaders, 'ce-count': '5', 'ce-flag': 'true' }).stored;
    expect(stored).toMatchObject({ count: '5', flag: 'true' });
  });

  it("accepts 'constructor' as an ordinary extension header", () => {
    expect(accept({ ...ceHeaders, 'ce-constructor': 'x' }).stored.constructor).toBe('x');
  });

  it('normalizes ce-time for the time column and keeps the sent text in the payload', () => {
    const event = accept({ ...ceHeaders, 'ce-time': '2020-02-20T08:00:06.4014168Z' });
    expect(event.time).toBe('2020-02-20T08:00:06.401Z');
    expect(event.stored.time).toBe('2020-02-20T08:00:06.4014168Z');
  });
});

describe('parseBinaryEvent: errors name the ce- header', () => {
  it.each(['specversion', 'id', 'source', 'type'])("names 'ce-%s' when it is missing", (name) => {
    const { [`ce-${name}`]: _, ...rest } = ceHeaders;
    expect(refuse(rest)).toEqual([
      { field: `ce-${name}`, message: `CloudEvent is missing required attributes: ${name}` },
    ]);
  });

  it("names 'ce-resource' with Altinn's messages when it is missing or not a URN", () => {
    const { 'ce-resource': _, ...rest } = ceHeaders;
    expect(refuse(rest)).toEqual([
      { field: 'ce-resource', message: "A 'resource' property must be defined." },
    ]);
    expect(refuse({ ...ceHeaders, 'ce-resource': 'urn:Altinn:x' })).toEqual([
      { field: 'ce-resource', message: "'Resource' must be a valid urn." },
    ]);
  });

  it('names the header of an invalid specversion, time or extension name', () => {
    const errors = refuse({ ...ceHeaders, 'ce-specversion': '0.3', 'ce-time': 'now', 'ce-my_ext': 'x' });
    expect(errors.map((e) => e.field)).toEqual(['ce-specversion', 'ce-time', 'ce-my_ext']);
  });

  it('reports every header with an invalid percent-encoding at once', () => {
    const errors = refuse({ 'ce-specversion': '1.0', 'ce-id': '%', 'ce-subject': '%zz' });
    expect(errors.map((e) => e.field)).toEqual(['ce-id', 'ce-subject']);
  });
});

describe('parseBinaryEvent: the body is the data', () => {
  it('keeps a JSON body as JSON and takes datacontenttype from Content-Type, parameters included', () => {
    const stored = accept(ceHeaders, 'application/json; charset=utf-8', Buffer.from('{"a":[1,true]}')).stored;
    expect(stored.data).toEqual({ a: [1, true] });
    expect(stored.datacontenttype).toBe('application/json; charset=utf-8');
    expect(stored).not.toHaveProperty('data_base64');
  });

  it.each([
    ['an array', '[1,2]', [1, 2]],
    ['a string', '"text"', 'text'],
    ['a number', '42', 42],
    ['a boolean', 'false', false],
  ])('keeps a JSON body that is %s with its JSON type', (_label, body, data) => {
    expect(accept(ceHeaders, 'application/json', Buffer.from(body)).stored.data).toStrictEqual(data);
  });

  it('reads a +json media type as JSON', () => {
    const stored = accept(ceHeaders, 'application/vnd.example+json', Buffer.from('{"v":1}')).stored;
    expect(stored.data).toEqual({ v: 1 });
  });

  it('reads a body without Content-Type as JSON and sets no datacontenttype', () => {
    const stored = accept(ceHeaders, undefined, Buffer.from('{"v":1}')).stored;
    expect(stored.data).toEqual({ v: 1 });
    expect(stored).not.toHaveProperty('datacontenttype');
  });

  it('refuses raw characters outside ASCII in a ce- header or Content-Type: HTTP reads them as Latin-1', () => {
    expect(refuse({ ...ceHeaders, 'ce-subject': '/party/Ã©' }, 'application/json', Buffer.from('{}'))).toEqual([
      { field: 'ce-subject', message: expect.stringMatching(/percent-encode/) },
    ]);
    expect(refuse(ceHeaders, 'text/plain; name=Ã©', Buffer.from('x'))).toEqual([
      { field: 'content-type', message: expect.stringMatching(/outside ASCII/) },
    ]);
  });

  it('keeps a JSON body of null as data: null', () => {
    expect(accept(ceHeaders, 'application/json', Buffer.from('null')).stored).toHaveProperty('data', null);
  });

  it('refuses a body that is not the JSON its media type promises', () => {
    expect(refuse(ceHeaders, 'application/json', Buffer.from('{not json'))).toEqual([
      { field: 'data', message: "The body is not valid JSON, as its media type 'application/json' says." },
    ]);
  });

  it('keeps a UTF-8 text body as a string', () => {
    const stored = accept(ceHeaders, 'text/plain; charset=utf-8', Buffer.from('blåbær')).stored;
    expect(stored.data).toBe('blåbær');
    expect(stored.datacontenttype).toBe('text/plain; charset=utf-8');
  });

  it('keeps a text body that is not valid UTF-8 as data_base64', () => {
    const bytes = Buffer.from([0x68, 0xe9, 0x21]);
    const stored = accept(ceHeaders, 'text/plain', bytes).stored;
    expect(stored.data_base64).toBe(bytes.toString('base64'));
    expect(stored).not.toHaveProperty('data');
  });

  it('keeps text in a charset other than UTF-8 as bytes, even when they happen to decode as UTF-8', () => {
    const latin1 = Buffer.from([0xc3, 0xa9]); // 'Ã©' in ISO-8859-1, 'é' if misread as UTF-8
    const stored = accept(ceHeaders, 'text/plain; charset=iso-8859-1', latin1).stored;
    expect(stored.data_base64).toBe(latin1.toString('base64'));
  });

  it('keeps any other body as data_base64 holding exactly the bytes sent', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const stored = accept(ceHeaders, 'application/octet-stream', bytes).stored;
    expect(Buffer.from(stored.data_base64 as string, 'base64')).toEqual(bytes);
    expect(stored.datacontenttype).toBe('application/octet-stream');
  });

  it('sets no data for an empty or absent body', () => {
    expect(accept(ceHeaders, 'application/json', Buffer.alloc(0)).stored).not.toHaveProperty('data');
    const stored = accept(ceHeaders, 'text/plain', undefined).stored;
    expect(stored).not.toHaveProperty('data');
    expect(stored).not.toHaveProperty('data_base64');
  });

  it('lets Content-Type win over a ce-datacontenttype header', () => {
    const stored = accept({ ...ceHeaders, 'ce-datacontenttype': 'text/plain' }, 'application/json').stored;
    expect(stored.datacontenttype).toBe('application/json');
  });

  it('names the Content-Type header when it is not a media type', () => {
    expect(refuse(ceHeaders, 'garbage')).toEqual([
      { field: 'content-type', message: "'datacontenttype' must be a media type." },
    ]);
  });

  it('names ce-datacontenttype when that header, sent without Content-Type, is not a media type', () => {
    expect(refuse({ ...ceHeaders, 'ce-datacontenttype': 'garbage' })).toEqual([
      { field: 'ce-datacontenttype', message: "'datacontenttype' must be a media type." },
    ]);
  });
});

describe('binary mode refuses data headers', () => {
  it('refuses ce-data and ce-data_base64 headers, naming them, since the body is the data', () => {
    const headers = {
      'ce-specversion': '1.0',
      'ce-id': '1',
      'ce-source': 'urn:x',
      'ce-type': 't',
      'ce-resource': 'urn:altinn:resource:r',
      'ce-data': '{"a":1}',
      'ce-data_base64': 'AAAA',
    };
    const parsed = parseBinaryEvent(headers, undefined, undefined, undefined);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.map((e) => e.field).sort()).toEqual(['ce-data', 'ce-data_base64']);
  });
});
