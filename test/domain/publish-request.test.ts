import { describe, expect, it } from 'vitest';
import { parseMediaType } from '../../src/domain/media-type.js';
import type { PublishMode } from '../../src/domain/publish-mode.js';
import { readPublishRequest } from '../../src/domain/publish-request.js';

const event = (id: string, extra: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id,
  source: 'https://api.example.no/things',
  type: 'no.example.thing.created',
  resource: 'urn:altinn:resource:example',
  ...extra,
});

const contentTypes: Record<PublishMode, string> = {
  structured: 'application/cloudevents+json',
  batch: 'application/cloudevents-batch+json',
  binary: 'application/json',
};

function read(
  mode: PublishMode,
  body: Buffer | string | undefined,
  headers: Record<string, string> = {},
  contentType = contentTypes[mode],
) {
  return readPublishRequest({
    mode,
    headers: { 'content-type': contentType, ...headers },
    contentType,
    mediaType: parseMediaType(contentType),
    body: typeof body === 'string' ? Buffer.from(body) : body,
  });
}

const json = (value: unknown) => JSON.stringify(value);

describe('readPublishRequest: structured mode', () => {
  it('reads one event from the body', () => {
    const parsed = read('structured', json(event('s-1')));
    expect(parsed.ok && parsed.value.map((e) => e.id)).toEqual(['s-1']);
  });

  it('names the failing attribute without a prefix', () => {
    const { resource: _, ...withoutResource } = event('s-1');
    expect(read('structured', json(withoutResource))).toEqual({
      ok: false,
      errors: [{ field: 'resource', message: "A 'resource' property must be defined." }],
    });
  });

  it('refuses a JSON array sent as a single event', () => {
    expect(read('structured', json([event('s-1')]))).toEqual({
      ok: false,
      errors: [{ field: 'body', message: 'A CloudEvent must be a JSON object.' }],
    });
  });

  it.each([
    ['an absent body', undefined],
    ['an empty body', ''],
  ])('refuses %s', (_label, body) => {
    expect(read('structured', body)).toEqual({
      ok: false,
      errors: [{ field: 'body', message: 'The request body is empty: it must hold a CloudEvent.' }],
    });
  });

  it('refuses a body that is not JSON, saying why', () => {
    const parsed = read('structured', '{"id": ');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.errors).toHaveLength(1);
      expect(parsed.errors[0]?.field).toBe('body');
      expect(parsed.errors[0]?.message).toMatch(/^The request body is not valid JSON: ./);
    }
  });

  it('refuses a body that is not valid UTF-8', () => {
    const body = Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    expect(read('structured', body)).toEqual({
      ok: false,
      errors: [{ field: 'body', message: 'The request body is not valid UTF-8.' }],
    });
  });

  it('accepts a body that starts with a UTF-8 byte order mark', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json(event('bom')))]);
    expect(read('structured', body).ok).toBe(true);
  });

  it('reads the body as the event even when ce- headers come along', () => {
    const parsed = read('structured', json(event('from-body')), { 'ce-id': 'from-header' });
    expect(parsed.ok && parsed.value[0]?.id).toBe('from-body');
  });
});

describe('readPublishRequest: batch mode', () => {
  it('accepts an empty batch', () => {
    expect(read('batch', '[]')).toEqual({ ok: true, value: [] });
  });

  it('reads every event of a batch in the order sent', () => {
    const parsed = read('batch', json([event('b-1'), event('b-2'), event('b-3')]));
    expect(parsed.ok && parsed.value.map((e) => e.id)).toEqual(['b-1', 'b-2', 'b-3']);
  });

  it('refuses the whole batch when one event is invalid, naming the item and attribute', () => {
    const parsed = read('batch', json([event('b-1'), event('b-2', { resource: 'URN:X' }), event('b-3')]));
    expect(parsed).toEqual({
      ok: false,
      errors: [{ field: '[1].resource', message: "'Resource' must be a valid urn." }],
    });
  });

  it('lists the problems of every invalid item, each with its index', () => {
    const { id: _, ...withoutId } = event('x');
    const parsed = read(
      'batch',
      json([withoutId, event('b-2'), 'not an event', event('b-4', { time: 'now' })]),
    );
    expect(parsed.ok === false && parsed.errors).toEqual([
      { field: '[0].id', message: 'CloudEvent is missing required attributes: id' },
      { field: '[2]', message: 'A CloudEvent must be a JSON object.' },
      { field: '[3].time', message: "'time' must be an RFC 3339 timestamp." },
    ]);
  });

  it('refuses a batch that is a single object rather than an array', () => {
    expect(read('batch', json(event('b-1')))).toEqual({
      ok: false,
      errors: [{ field: 'body', message: 'A batch must be a JSON array of CloudEvents.' }],
    });
  });

  it('refuses a batch body that is empty or not JSON', () => {
    expect(read('batch', '').ok).toBe(false);
    expect(read('batch', '[{').ok).toBe(false);
  });
});

describe('readPublishRequest: binary mode', () => {
  const ceHeaders = {
    'ce-specversion': '1.0',
    'ce-id': 'bin-1',
    'ce-source': 'https://api.example.no/things',
    'ce-type': 'no.example.thing.created',
    'ce-resource': 'urn:altinn:resource:example',
  };

  it('reads one event from the headers with the body as its data', () => {
    const parsed = read('binary', json({ hello: 'world' }), ceHeaders);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.value).toHaveLength(1);
      expect(JSON.parse(parsed.value[0]?.payload ?? '')).toMatchObject({
        id: 'bin-1',
        datacontenttype: 'application/json',
        data: { hello: 'world' },
      });
    }
  });

  it('accepts an empty body: a binary event need not carry data', () => {
    expect(read('binary', undefined, ceHeaders, 'text/plain').ok).toBe(true);
  });

  it('names the ce- header at fault', () => {
    const { 'ce-id': _, ...withoutId } = ceHeaders;
    expect(read('binary', undefined, withoutId)).toEqual({
      ok: false,
      errors: [{ field: 'ce-id', message: 'CloudEvent is missing required attributes: id' }],
    });
  });
});
