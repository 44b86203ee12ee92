import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import {
  eventsPath,
  expectFieldError,
  expectProblem,
  expectStillServing,
  recordingInject,
} from './harness.js';

const structured = 'application/cloudevents+json';
const batch = 'application/cloudevents-batch+json';
const KiB = 1024;

describeEachEngine('POST /events with bad input on $name', (engine) => {
  describe('with the default limits', () => {
    let t: TestApp;
    let http: ReturnType<typeof recordingInject>;
    /** Acknowledged before any bad request; it must still be there at the end. */
    const acknowledged = sampleEvent({ source: `https://acknowledged.test/${crypto.randomUUID()}` });

    beforeAll(async () => {
      t = await createTestApp(engine);
      http = recordingInject(t.app);
      const response = await publish(JSON.stringify(acknowledged));
      expect(response.statusCode).toBe(200);
    });
    afterAll(async () => t?.close());
    afterEach(() => {
      expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
    });

    function publish(
      payload: string | Buffer | undefined,
      /** `null` sends no Content-Type at all. */
      contentType: string | null = structured,
      headers: Record<string, string> = {},
    ) {
      return http.inject({
        method: 'POST',
        url: eventsPath,
        headers: { ...t.auth, ...(contentType === null ? {} : { 'content-type': contentType }), ...headers },
        ...(payload === undefined ? {} : { payload }),
      });
    }

    /** A fresh source, so a test can tell whether anything it sent was stored. */
    function uniqueSource(): string {
      return `https://bad-input.test/${crypto.randomUUID()}`;
    }

    async function storedFrom(source: string): Promise<unknown[]> {
      const response = await http.inject({
        method: 'GET',
        url: `${eventsPath}?${new URLSearchParams({ after: '0', source })}`,
        headers: t.auth,
      });
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    }

    function binaryHeaders(overrides: Record<string, string> = {}): Record<string, string> {
      return {
        'ce-specversion': '1.0',
        'ce-id': crypto.randomUUID(),
        'ce-source': uniqueSource(),
        'ce-type': 'no.altinn.events.test',
        'ce-resource': 'urn:altinn:resource:herald.test',
        ...overrides,
      };
    }

    describe('bodies that are not readable JSON', () => {
      it.each([structured, batch, 'application/json'])('refuses malformed JSON sent as %s', async (type) => {
        const body = expectFieldError(
          await publish('{"specversion": "1.0", "id": ', type),
          'events:invalidRequest',
          'body',
        );
        expect(body.detail).toMatch(/^The request body is not valid JSON/);
      });

      it.each([
        ['an array', JSON.stringify([sampleEvent()])],
        ['a number', '42'],
        ['a string', '"an event"'],
        ['null', 'null'],
        ['a boolean', 'true'],
      ])('refuses a structured body that is %s, not an object', async (_what, payload) => {
        expectFieldError(
          await publish(payload),
          'events:invalidRequest',
          'body',
          'A CloudEvent must be a JSON object.',
        );
      });

      it.each([structured, batch, 'application/json'])('refuses an empty body sent as %s', async (type) => {
        expectFieldError(
          await publish('', type),
          'events:invalidRequest',
          'body',
          /^The request body is empty/,
        );
      });

      it.each([
        ['an object', JSON.stringify(sampleEvent())],
        ['a number', '7'],
        ['a string', '"[]"'],
        ['null', 'null'],
      ])('refuses a batch that is %s, not an array', async (_what, payload) => {
        expectFieldError(
          await publish(payload, batch),
          'events:invalidRequest',
          'body',
          'A batch must be a JSON array of CloudEvents.',
        );
      });

      it.each([structured, batch])('refuses invalid UTF-8 bytes sent as %s', async (type) => {
        const json = JSON.stringify(sampleEvent({ subject: 'SUBJECT' }));
        const bytes = Buffer.from(json.replace('SUBJECT', '\u0001'));
        bytes[bytes.indexOf(0x01)] = 0xff; // a byte that never occurs in UTF-8
        expectFieldError(
          await publish(
            type === batch ? Buffer.concat([Buffer.from('['), bytes, Buffer.from(']')]) : bytes,
            type,
          ),
          'events:invalidRequest',
          'body',
          'The request body is not valid UTF-8.',
        );
      });

      it('refuses a binary-mode JSON body holding invalid UTF-8', async () => {
        const response = await publish(
          Buffer.from([0x22, 0xc3, 0x28, 0x22]),
          'application/json',
          binaryHeaders(),
        );
        expectFieldError(response, 'events:invalidEvent', 'data');
      });

      it('keeps invalid UTF-8 in a binary-mode text body as bytes, not as mangled text', async () => {
        const headers = binaryHeaders();
        const bytes = Buffer.from([0x68, 0xe9, 0xff]);
        expect((await publish(bytes, 'text/plain', headers)).statusCode).toBe(200);
        const [stored] = (await storedFrom(headers['ce-source'] as string)) as Record<string, unknown>[];
        expect(stored).toMatchObject({ data_base64: bytes.toString('base64') });
        expect(stored).not.toHaveProperty('data');
      });
    });

    describe('missing or invalid attributes', () => {
      it.each(['specversion', 'id', 'source', 'type'])(
        "names a missing '%s' with Altinn's message",
        async (attribute) => {
          const event = sampleEvent();
          delete event[attribute];
          const message = `CloudEvent is missing required attributes: ${attribute}`;
          const body = expectFieldError(
            await publish(JSON.stringify(event)),
            'events:invalidEvent',
            attribute,
            message,
          );
          expect(body.detail).toBe(message);
        },
      );

      it("names a missing 'resource' with Altinn's message", async () => {
        const event = sampleEvent();
        delete event.resource;
        const message = "A 'resource' property must be defined.";
        const body = expectFieldError(
          await publish(JSON.stringify(event)),
          'events:invalidEvent',
          'resource',
          message,
        );
        expect(body.detail).toBe(message);
      });

      it('treats a null required attribute as missing', async () => {
        expectFieldError(
          await publish(JSON.stringify(sampleEvent({ id: null }))),
          'events:invalidEvent',
          'id',
          'CloudEvent is missing required attributes: id',
        );
      });

      it('names every missing attribute at once', async () => {
        const body = expectProblem(await publish('{}'), 400, 'events:invalidEvent');
        expect(Object.keys(body.errors ?? {}).sort()).toEqual([
          'id',
          'resource',
          'source',
          'specversion',
          'type',
        ]);
      });

      it.each([
        ['specversion', 1],
        ['specversion', '0.3'],
        ['id', 42],
        ['id', ''],
        ['source', 7],
        ['source', 'not a uri: it has spaces'],
        ['type', true],
        ['type', {}],
        ['subject', 5],
        ['time', 1_700_000_000],
        ['datacontenttype', 5],
        ['dataschema', 'relative/path'],
        ['data_base64', 5],
        ['data_base64', '!!! not base64 !!!'],
        ['resource', 42],
        ['resourceinstance', 3],
        ['alternativesubject', []],
      ])("refuses '%s' holding %j", async (attribute, value) => {
        expectFieldError(
          await publish(JSON.stringify(sampleEvent({ [attribute]: value }))),
          'events:invalidEvent',
          attribute,
        );
      });

      it.each([
        'urn:altinn',
        'altinn:resource:dodsbo',
        'URN:altinn:resource:dodsbo',
        'urn:altinn:resource:Dodsbo',
        'urn:altinn:resource:with space',
        'https://altinn.no/resource',
        '',
      ])('refuses the resource %j as not a valid URN', async (resource) => {
        const message = "'Resource' must be a valid urn.";
        const body = expectFieldError(
          await publish(JSON.stringify(sampleEvent({ resource }))),
          'events:invalidEvent',
          'resource',
          message,
        );
        expect(body.detail).toBe(message);
      });

      it.each([
        'yesterday',
        '2020-02-20T08:00:06',
        '2020-02-20 08:00:06Z',
        '2020-02-30T08:00:06Z',
        '2020-13-01T00:00:00Z',
        '2020-02-20T25:00:00Z',
        '+275760-09-13T00:00:00Z',
      ])('refuses the time %j', async (time) => {
        expectFieldError(
          await publish(JSON.stringify(sampleEvent({ time }))),
          'events:invalidEvent',
          'time',
          "'time' must be an RFC 3339 timestamp.",
        );
      });

      it("refuses 'data' and 'data_base64' together", async () => {
        expectFieldError(
          await publish(JSON.stringify(sampleEvent({ data: { a: 1 }, data_base64: 'aGk=' }))),
          'events:invalidEvent',
          'data_base64',
          "'data' and 'data_base64' cannot both be set.",
        );
      });

      it.each(['MyExt', 'my-ext', 'my_ext', 'ext.name', 'æøå'])(
        'refuses the extension name %j',
        async (name) => {
          expectFieldError(
            await publish(JSON.stringify(sampleEvent({ [name]: 'x' }))),
            'events:invalidEvent',
            name,
            /is not a valid attribute name/,
          );
        },
      );

      it.each([
        ['an object', { nested: true }],
        ['an array', [1, 2]],
      ])('refuses an extension value that is %s', async (_what, value) => {
        expectFieldError(
          await publish(JSON.stringify(sampleEvent({ myext: value }))),
          'events:invalidEvent',
          'myext',
          "'myext' must be a string, a number or a boolean.",
        );
      });

      it('accepts long extension names and keeps extension values with their JSON type', async () => {
        const event = sampleEvent({
          source: uniqueSource(),
          averyveryverylongextensionname: 'kept',
          count: 3,
          flag: false,
        });
        expect((await publish(JSON.stringify(event))).statusCode).toBe(200);
        expect(await storedFrom(event.source as string)).toEqual([event]);
      });
    });

    describe('batches', () => {
      it('refuses the whole batch when one item is invalid, names [i].attribute, and stores none of it', async () => {
        const source = uniqueSource();
        const items = [
          sampleEvent({ source }),
          sampleEvent({ source }),
          sampleEvent({ source, resource: 'not-a-urn' }),
        ];
        expectFieldError(
          await publish(JSON.stringify(items), batch),
          'events:invalidEvent',
          '[2].resource',
          "'Resource' must be a valid urn.",
        );
        expect(await storedFrom(source)).toEqual([]);
      });

      it('names every invalid item of a batch', async () => {
        const source = uniqueSource();
        const missingType = sampleEvent({ source });
        delete missingType.type;
        const body = expectProblem(
          await publish(
            JSON.stringify([sampleEvent({ source, id: 7 }), sampleEvent({ source }), missingType]),
            batch,
          ),
          400,
          'events:invalidEvent',
        );
        expect(Object.keys(body.errors ?? {}).sort()).toEqual(['[0].id', '[2].type']);
        expect(await storedFrom(source)).toEqual([]);
      });

      it('refuses a batch item that is not an object', async () => {
        const source = uniqueSource();
        expectFieldError(
          await publish(JSON.stringify([sampleEvent({ source }), 42]), batch),
          'events:invalidEvent',
          '[1]',
          'A CloudEvent must be a JSON object.',
        );
        expect(await storedFrom(source)).toEqual([]);
      });

      it('accepts an empty batch', async () => {
        expect((await publish('[]', batch)).statusCode).toBe(200);
      });
    });

    describe('content types', () => {
      it.each([
        ['text/plain without ce- headers', 'text/plain'],
        ['no Content-Type', null],
        ['application/xml', 'application/xml'],
        ['multipart/form-data', 'multipart/form-data; boundary=x'],
        ['a form', 'application/x-www-form-urlencoded'],
        ['something that is not a media type', 'cloudevents'],
      ])('answers 415 to %s', async (_what, type) => {
        expectProblem(await publish(JSON.stringify(sampleEvent()), type), 415, 'events:unsupportedMediaType');
      });

      it('answers 415 to a request with neither Content-Type nor body', async () => {
        expectProblem(await publish(undefined, null), 415, 'events:unsupportedMediaType');
      });

      it.each([
        `${structured}; charset=iso-8859-1`,
        `${batch}; charset=utf-16`,
        'application/json; charset=windows-1252',
      ])('answers 415 to the non-UTF-8 %j', async (type) => {
        const payload = type.startsWith(batch)
          ? JSON.stringify([sampleEvent()])
          : JSON.stringify(sampleEvent());
        expectProblem(await publish(payload, type), 415, 'events:unsupportedMediaType');
      });

      it('accepts media types in any case, with a quoted UTF-8 charset', async () => {
        const response = await publish(
          JSON.stringify(sampleEvent()),
          'Application/CloudEvents+JSON; charset="UTF-8"',
        );
        expect(response.statusCode).toBe(200);
      });
    });

    describe('size limits (256 KiB per event, 1 MiB per request)', () => {
      it('answers 413 to a single event over 256 KiB and stores nothing', async () => {
        const source = uniqueSource();
        const response = await publish(JSON.stringify(sampleEvent({ source, data: 'x'.repeat(300 * KiB) })));
        const body = expectProblem(response, 413, 'events:payloadTooLarge');
        expect(body.detail).toContain('262144');
        expect(await storedFrom(source)).toEqual([]);
      });

      it('answers 413 to a request over 1 MiB', async () => {
        const response = await publish(JSON.stringify(sampleEvent({ data: 'x'.repeat(1100 * KiB) })));
        expectProblem(response, 413, 'events:payloadTooLarge');
      });

      it('answers 413 to a batch over 1 MiB of events that are each under 256 KiB, and stores none', async () => {
        const source = uniqueSource();
        const items = Array.from({ length: 5 }, () => sampleEvent({ source, data: 'x'.repeat(220 * KiB) }));
        expectProblem(await publish(JSON.stringify(items), batch), 413, 'events:payloadTooLarge');
        expect(await storedFrom(source)).toEqual([]);
      });

      it('answers 413 to a batch under 1 MiB holding one event over 256 KiB, names it, and stores none', async () => {
        const source = uniqueSource();
        const items = [sampleEvent({ source }), sampleEvent({ source, data: 'x'.repeat(300 * KiB) })];
        const body = expectProblem(
          await publish(JSON.stringify(items), batch),
          413,
          'events:payloadTooLarge',
        );
        expect(body.detail).toContain('[1]');
        expect(await storedFrom(source)).toEqual([]);
      });

      it('answers 413 to a binary-mode body over 256 KiB', async () => {
        const response = await publish('x'.repeat(300 * KiB), 'text/plain', binaryHeaders());
        expectProblem(response, 413, 'events:payloadTooLarge');
      });

      it('accepts a batch under both limits', async () => {
        const source = uniqueSource();
        const items = Array.from({ length: 4 }, () => sampleEvent({ source, data: 'x'.repeat(200 * KiB) }));
        expect((await publish(JSON.stringify(items), batch)).statusCode).toBe(200);
        expect(await storedFrom(source)).toHaveLength(4);
      });
    });

    describe('binary mode', () => {
      it.each([
        ['ce-id', '%zz'],
        ['ce-source', 'https://x.test/%E0%A4'],
        ['ce-subject', '%FF'],
      ])('refuses %s holding the bad percent-encoding %j', async (header, value) => {
        const response = await publish('hello', 'text/plain', binaryHeaders({ [header]: value }));
        expectFieldError(response, 'events:invalidEvent', header, /invalid percent-encoding/);
      });

      it('names a missing attribute by its header', async () => {
        const headers = binaryHeaders();
        delete headers['ce-specversion'];
        expectFieldError(
          await publish('hello', 'text/plain', headers),
          'events:invalidEvent',
          'ce-specversion',
        );
      });

      it("refuses an invalid ce-resource with Altinn's message", async () => {
        expectFieldError(
          await publish('hello', 'text/plain', binaryHeaders({ 'ce-resource': 'urn:Altinn' })),
          'events:invalidEvent',
          'ce-resource',
          "'Resource' must be a valid urn.",
        );
      });

      it('refuses a body that is not the JSON its Content-Type says', async () => {
        expectFieldError(
          await publish('{bad', 'application/json', binaryHeaders()),
          'events:invalidEvent',
          'data',
        );
      });

      it('refuses a ce-data_base64 header alongside a body', async () => {
        const response = await publish('hello', 'text/plain', binaryHeaders({ 'ce-data_base64': 'aGk=' }));
        expectFieldError(response, 'events:invalidEvent', 'ce-data_base64', /is not allowed/);
      });
    });

    describe('keys that look like prototype pollution', () => {
      it.each([
        ['__proto__', JSON.stringify(sampleEvent()).replace('{', '{"__proto__":{"polluted":true},')],
        ['hasOwnProperty', JSON.stringify(sampleEvent({ hasOwnProperty: 'x' }))],
        ['valueOf', JSON.stringify(sampleEvent({ valueOf: 'x' }))],
        ['toString', JSON.stringify(sampleEvent({ toString: 'x' }))],
      ])('refuses the attribute name %s as invalid, polluting nothing', async (name, payload) => {
        expectFieldError(
          await publish(payload),
          'events:invalidEvent',
          name,
          /is not a valid attribute name/,
        );
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      });

      it("names a bad 'constructor' value in errors as an ordinary field", async () => {
        expectFieldError(
          await publish(JSON.stringify(sampleEvent({ constructor: { polluted: true } }))),
          'events:invalidEvent',
          'constructor',
          "'constructor' must be a string, a number or a boolean.",
        );
      });

      it("keeps 'constructor' as an ordinary extension attribute", async () => {
        const event = sampleEvent({ source: uniqueSource(), constructor: 1 });
        expect((await publish(JSON.stringify(event))).statusCode).toBe(200);
        expect(await storedFrom(event.source as string)).toEqual([event]);
      });

      it('keeps __proto__ inside data as plain data', async () => {
        const event = sampleEvent({ source: uniqueSource() });
        const payload = JSON.stringify(event).replace(/}$/, ',"data":{"__proto__":{"polluted":true}}}');
        expect((await publish(payload)).statusCode).toBe(200);
        const response = await http.inject({
          method: 'GET',
          url: `${eventsPath}?${new URLSearchParams({ after: '0', source: event.source as string })}`,
          headers: t.auth,
        });
        expect(response.body).toContain('"data":{"__proto__":{"polluted":true}}');
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      });

      // A `ce-__proto__` header becomes an attribute named __proto__, which is refused, not a prototype.
      it('refuses a ce-__proto__ header as an invalid attribute name and pollutes nothing', async () => {
        const response = await publish('hello', 'text/plain', binaryHeaders({ 'ce-__proto__': 'x' }));
        expect(response.statusCode).toBe(400);
        expect(Object.getPrototypeOf({})).toBe(Object.prototype);
      });
    });

    describe('values the store cannot hold', () => {
      // CloudEvents 1.0.2 forbids control characters (U+0000-U+001F, U+007F-U+009F) in strings, and
      // PostgreSQL cannot store U+0000 in text: they are refused before they reach a store.
      it('refuses control characters in attribute values with 400', async () => {
        for (const overrides of [{ id: 'a\u0000b' }, { subject: 'line\nbreak' }, { myext: '\u0000' }]) {
          const response = await t.app.inject({
            method: 'POST',
            url: eventsPath,
            headers: { ...t.auth, 'content-type': structured },
            payload: JSON.stringify(sampleEvent(overrides)),
          });
          expect(response.statusCode, JSON.stringify(overrides)).toBe(400);
        }
      });

      // RFC 3339 allows year 0000, and a leap second on 9999-12-31 rolls into year 10000: instants outside
      // years 1-9999 (UTC) are refused, so no engine is ever handed a timestamp it cannot store.
      it('answers a time at the edges of the calendar with 200 or 400, never 5xx', async () => {
        for (const time of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:60Z']) {
          const response = await t.app.inject({
            method: 'POST',
            url: eventsPath,
            headers: { ...t.auth, 'content-type': structured },
            payload: JSON.stringify(sampleEvent({ time })),
          });
          expect([200, 400], `${time} -> ${response.body}`).toContain(response.statusCode);
        }
      });

      // Publishes that arrive together share one transaction; an event refused at the door must not fail
      // the others (test/store/group-commit.test.ts covers one the database itself refuses).
      it('one event the database refuses does not fail the publishes committed with it', async () => {
        const post = (event: Record<string, unknown>) =>
          t.app.inject({
            method: 'POST',
            url: eventsPath,
            headers: { ...t.auth, 'content-type': structured },
            payload: JSON.stringify(event),
          });
        // Several innocent publishes, so at least one shares the refused event's commit.
        const [, ...innocents] = await Promise.all([
          post(sampleEvent({ time: '0000-01-01T00:00:00Z' })),
          ...Array.from({ length: 5 }, () => post(sampleEvent())),
        ]);
        expect(innocents.map((response) => response.statusCode)).toEqual([200, 200, 200, 200, 200]);
      });

      // JSON.parse accepts data nested thousands deep, but serializing it would overflow the stack: data
      // nested more than 100 levels is refused with 400.
      it('answers deeply nested data without a 5xx', async () => {
        const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
        for (const [type, payload, headers] of [
          [structured, JSON.stringify(sampleEvent()).replace(/}$/, `,"data":${deep}}`), {}],
          ['application/json', deep, binaryHeaders()],
        ] as const) {
          const response = await t.app.inject({
            method: 'POST',
            url: eventsPath,
            headers: { ...t.auth, 'content-type': type, ...headers },
            payload,
          });
          expect(response.statusCode, response.body).toBeLessThan(500);
        }
      });
    });

    it('still serves after all of the above, and still holds what it acknowledged first', async () => {
      await expectStillServing(t.app, t.auth);
      expect(await storedFrom(acknowledged.source as string)).toEqual([acknowledged]);
    });
  });

  describe('with smaller configured limits', () => {
    let t: TestApp;
    let http: ReturnType<typeof recordingInject>;
    const limits = { maxEventBytes: 2 * KiB, maxRequestBytes: 8 * KiB };

    beforeAll(async () => {
      t = await createTestApp(engine, limits);
      http = recordingInject(t.app);
    });
    afterAll(async () => t?.close());
    afterEach(() => {
      expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
    });

    const publish = (payload: string, type = structured) =>
      http.inject({
        method: 'POST',
        url: eventsPath,
        headers: { ...t.auth, 'content-type': type },
        payload,
      });

    it('answers 413 to an event over the configured per-event limit', async () => {
      const body = expectProblem(
        await publish(JSON.stringify(sampleEvent({ data: 'x'.repeat(3 * KiB) }))),
        413,
        'events:payloadTooLarge',
      );
      expect(body.detail).toContain(String(limits.maxEventBytes));
    });

    it('answers 413 to a request over the configured per-request limit', async () => {
      const items = Array.from({ length: 6 }, () => sampleEvent({ data: 'x'.repeat(1500) }));
      expectProblem(await publish(JSON.stringify(items), batch), 413, 'events:payloadTooLarge');
    });

    it('accepts events and batches within the configured limits', async () => {
      expect((await publish(JSON.stringify(sampleEvent({ data: 'x'.repeat(1500) })))).statusCode).toBe(200);
      const items = Array.from({ length: 4 }, () => sampleEvent({ data: 'x'.repeat(1500) }));
      expect((await publish(JSON.stringify(items), batch)).statusCode).toBe(200);
    });

    it('still serves after the refused requests', async () => {
      await expectStillServing(t.app, t.auth);
    });
  });
});
