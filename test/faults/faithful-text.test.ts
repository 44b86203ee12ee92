import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import { eventsPath, expectFieldError, recordingInject } from '../http/harness.js';

const structured = 'application/cloudevents+json';
const batch = 'application/cloudevents-batch+json';
const subscriptionsPath = '/events/api/v1/subscriptions';

describeEachEngine('Text that cannot be stored faithfully is refused, on $name', (engine) => {
  let t: TestApp;
  let http: ReturnType<typeof recordingInject>;

  beforeAll(async () => {
    t = await createTestApp(engine);
    http = recordingInject(t.app);
  });
  afterAll(async () => t?.close());
  afterEach(() => {
    expect(http.takeServerErrors(), 'no request may be answered with a 5xx').toEqual([]);
  });

  const uniqueSource = () => `https://faithful.test/${crypto.randomUUID()}`;
  const publish = (payload: string | Buffer, contentType = structured, headers: Record<string, string> = {}) =>
    http.inject({ method: 'POST', url: eventsPath, headers: { ...t.auth, 'content-type': contentType, ...headers }, payload });

  async function storedFrom(source: string): Promise<Record<string, unknown>[]> {
    const response = await http.inject({ method: 'GET', url: `${eventsPath}?${new URLSearchParams({ after: '0', source })}`, headers: t.auth });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  }

  function binaryHeaders(source: string, overrides: Record<string, string> = {}): Record<string, string> {
    return {
      'ce-specversion': '1.0',
      'ce-id': crypto.randomUUID(),
      'ce-source': source,
      'ce-type': 'no.altinn.events.test',
      'ce-resource': 'urn:altinn:resource:herald.test',
      ...overrides,
    };
  }

  it('refuses ids \\ud800 and \\udbff and stores \\ufffd: three ids are never stored as one', async () => {
    const source = uniqueSource();
    // JSON.stringify writes a lone surrogate as the escape `\ud800`: valid UTF-8 JSON text that parses to it.
    const statuses = [];
    for (const id of ['\ud800', '\udbff', '\ufffd']) statuses.push((await publish(JSON.stringify(sampleEvent({ id, source })))).statusCode);
    expect(statuses).toEqual([400, 400, 200]);
    const stored = await storedFrom(source);
    expect(stored.map((e) => e.id)).toEqual(['\ufffd']);
  });

  it.each([
    ['subject', { subject: '/party/\udc00' }],
    ['alternativesubject', { alternativesubject: '/person/a\ud83d' }],
    ['type', { type: 'a.\ud800b' }],
    ['myextension', { myextension: 'x\udfff' }],
    ['data', { data: { nested: ['ok', { deeper: 'x\ud800' }] } }],
    ['data', { data: { '\udbff key': 1 } }],
    ['data', { data: '\ud800' }],
  ])('refuses an unpaired surrogate in %s, in structured and batch mode', async (field, overrides) => {
    const source = uniqueSource();
    const event = sampleEvent({ source, ...overrides });
    expectFieldError(await publish(JSON.stringify(event)), 'events:invalidEvent', field, /surrogate/);
    expectFieldError(await publish(JSON.stringify([sampleEvent({ source }), event]), batch), 'events:invalidEvent', `[1].${field}`, /surrogate/);
    expect(await storedFrom(source)).toEqual([]);
  });

  it('keeps well-formed text outside the Basic Multilingual Plane (surrogate pairs) as it was sent', async () => {
    const source = uniqueSource();
    const event = sampleEvent({ source, subject: '/party/😀', data: { '😀': 'é𝄞' } });
    expect((await publish(JSON.stringify(event))).statusCode).toBe(200);
    expect(await storedFrom(source)).toEqual([event]);
  });

  it('refuses a binary-mode JSON body whose text escapes an unpaired surrogate', async () => {
    const source = uniqueSource();
    const response = await publish('{"text":"\\ud800"}', 'application/json', binaryHeaders(source));
    expectFieldError(response, 'events:invalidEvent', 'data', /surrogate/);
    expect(await storedFrom(source)).toEqual([]);
  });

  it.each([
    ['an encoded surrogate', '%ED%A0%80'],
    ['invalid UTF-8', '%FF%FE'],
    ['a truncated sequence', '%C3'],
  ])('refuses a ce- header percent-decoded into %s', async (_name, encoded) => {
    const source = uniqueSource();
    const response = await publish('{}', 'application/json', binaryHeaders(source, { 'ce-subject': `/party/${encoded}` }));
    expectFieldError(response, 'events:invalidEvent', 'ce-subject');
    expect(await storedFrom(source)).toEqual([]);
  });

  it('refuses a ce- header holding raw bytes outside ASCII, which HTTP cannot say are UTF-8 (percent-encode them)', async () => {
    const source = uniqueSource();
    // Node reads header bytes as Latin-1: raw UTF-8 "é" (C3 A9) arrives as "Ã©".
    const response = await publish('{}', 'application/json', binaryHeaders(source, { 'ce-subject': '/party/Ã©' }));
    expectFieldError(response, 'events:invalidEvent', 'ce-subject', /percent-encode/);
    expect(await storedFrom(source)).toEqual([]);
  });

  it('keeps a binary-mode text body that is not valid UTF-8 as its exact bytes, in data_base64', async () => {
    const source = uniqueSource();
    const body = Buffer.from([0x68, 0xe9, 0xff, 0x21]);
    const response = await publish(body, 'text/plain; charset=utf-8', binaryHeaders(source));
    expect(response.statusCode, response.body).toBe(200);
    const [stored] = await storedFrom(source);
    expect(stored?.data).toBeUndefined();
    expect(Buffer.from(stored?.data_base64 as string, 'base64')).toEqual(body);
  });

  async function subscriptionCount(): Promise<number> {
    const response = await http.inject({ method: 'GET', url: subscriptionsPath, headers: t.auth });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as { subscriptions?: unknown[] } | unknown[];
    return Array.isArray(body) ? body.length : (body.subscriptions?.length ?? 0);
  }

  it('refuses a subscription body that is not valid UTF-8, storing nothing', async () => {
    const before = await subscriptionCount();
    const body = Buffer.concat([
      Buffer.from('{"resourceFilter":"urn:altinn:resource:herald.test","subjectFilter":"/party/'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const response = await http.inject({
      method: 'POST',
      url: subscriptionsPath,
      headers: { ...t.auth, 'content-type': 'application/json' },
      payload: body,
    });
    expectFieldError(response, 'events:invalidRequest', 'body', /UTF-8/);
    expect(await subscriptionCount()).toBe(before);
  });

  it('refuses a subscription filter holding an unpaired surrogate, storing nothing', async () => {
    const before = await subscriptionCount();
    const response = await http.inject({
      method: 'POST',
      url: subscriptionsPath,
      headers: { ...t.auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ resourceFilter: 'urn:altinn:resource:herald.test', subjectFilter: '/party/\ud800' }),
    });
    expectFieldError(response, 'events:invalidRequest', 'subjectFilter', /surrogate/);
    expect(await subscriptionCount()).toBe(before);
  });

  it.each([
    ['subject', '/party/%ED%A0%80'],
    ['subject', '/party/%FF'],
    ['source', 'https://faithful.test/%C3'],
    ['type', 'a.%E9'],
  ])('refuses a poll whose %s percent-decodes to invalid UTF-8, rather than filtering on other text', async (name, encoded) => {
    const query = `after=0&resource=urn:altinn:resource:herald.test&${name}=${encoded}`;
    const response = await http.inject({ method: 'GET', url: `${eventsPath}?${query}`, headers: t.auth });
    expectFieldError(response, 'events:invalidQuery', name, /UTF-8/);
  });

  it('still reads a poll with a well-encoded non-ASCII subject and an unencoded % wildcard', async () => {
    const source = uniqueSource();
    const event = sampleEvent({ source, subject: '/party/é' });
    expect((await publish(JSON.stringify(event))).statusCode).toBe(200);
    const bySubject = await http.inject({ method: 'GET', url: `${eventsPath}?after=0&source=${source}&subject=%2Fparty%2F%C3%A9`, headers: t.auth });
    expect(bySubject.json()).toEqual([event]);
    const byWildcard = await http.inject({ method: 'GET', url: `${eventsPath}?after=0&source=${source.slice(0, -5)}%`, headers: t.auth });
    expect(byWildcard.json()).toEqual([event]);
  });
});
