import { CloudEvent, HTTP } from 'cloudevents';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

const publishUrl = '/events/api/v1/events';
const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';

/** The publish body of spec/002 (Altinn's "Publish events" page), as written. */
const spec002Body = `{
    "id": "288f71f2-8cbd-3442-1532-ac14f3fd9faa",
    "type": "no.altinn.events.digitalt-dodsbo.opprettet", 
    "resource": "urn:altinn:resource:dodsbo.domstoladmin.api",
    "resourceinstance": "91f2388f-bd8c-4647-8684-fd9f68af5b14", 
    "alternativesubject":"/person/16069412345",
    "source":  "https://api.domstol.no/dodsbo-api/v1/dodsbo/91f2388f-bd8c-4647-8684-fd9f68af5b14",
    "time": "2020-02-20T08:00:06.4014168Z",
    "specversion": "1.0"
}`;

/** The body of spec/003 as the public site renders it: links stripped, so `type` and `source` are empty. */
const spec003Body = `{
    "id": "288f71f2-8cbd-3442-1532-ac14f3fd9faa",
    "type": "",
    "resource": "urn:altinn:resource:dodsbo.domstoladmin.api",
    "resourceinstance": "91f2388f-bd8c-4647-8684-fd9f68af5b14",
    "source":  "",
    "time": "2020-02-20T08:00:06.4014168Z",
    "specversion": "1.0"
}`;

describeEachEngine('Publishing on $name', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(engine);
  });
  afterAll(async () => {
    await t?.close();
  });

  const publish = (payload: string | object, contentType = 'application/cloudevents+json', headers = {}) =>
    t.app.inject({
      method: 'POST',
      url: publishUrl,
      headers: { ...t.auth, 'content-type': contentType, ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  /** Every stored event whose id is in `ids`, as the log returns them. */
  const storedEvents = async (...ids: string[]) => {
    const rows = await t.store.readEvents({ afterSeq: 0, limit: 1000 });
    return rows
      .map((row) => JSON.parse(row.payload) as Record<string, unknown>)
      .filter((e) => ids.includes(e.id as string));
  };

  it('accepts the spec/002 example as written with 200 and no body, and stores it verbatim', async () => {
    const response = await publish(spec002Body);
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('');
    expect(await storedEvents('288f71f2-8cbd-3442-1532-ac14f3fd9faa')).toEqual([JSON.parse(spec002Body)]);
  });

  it('accepts the same event as application/json, as Altinn clients send it, and a repeat stores nothing new', async () => {
    const body = sampleEvent();
    expect((await publish(body, 'application/json; charset=utf-8')).statusCode).toBe(200);
    expect((await publish(body, 'Application/JSON')).statusCode).toBe(200);
    expect(await storedEvents(body.id as string)).toHaveLength(1);
  });

  it('answers the spec/003 example as rendered with a 400 naming the empty type and source', async () => {
    const response = await publish(spec003Body);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json();
    expect(problem).toMatchObject({
      status: 400,
      title: 'One or more validation errors occurred.',
      code: 'events:invalidEvent',
    });
    expect(Object.keys(problem.errors).sort()).toEqual(['source', 'type']);
  });

  it('stores a batch in order, all or nothing, and accepts an empty batch', async () => {
    const batch = [
      sampleEvent({ id: 'batch-1' }),
      sampleEvent({ id: 'batch-2' }),
      sampleEvent({ id: 'batch-3' }),
    ];
    expect((await publish(batch, 'application/cloudevents-batch+json')).statusCode).toBe(200);
    expect((await storedEvents('batch-1', 'batch-2', 'batch-3')).map((e) => e.id)).toEqual([
      'batch-1',
      'batch-2',
      'batch-3',
    ]);
    expect((await publish([], 'application/cloudevents-batch+json')).statusCode).toBe(200);
  });

  it('keeps data of every JSON type, and extension attributes with their JSON types and long names', async () => {
    const cases = [{ nested: { a: [1, 'two', null] } }, [1, 2], 'text', 42.5, false, 0];
    for (const [index, data] of cases.entries()) {
      const id = `data-${index}`;
      const event = sampleEvent({
        id,
        data,
        count: 3,
        flagged: true,
        averyveryverylongextensionname: 'kept',
      });
      expect((await publish(event)).statusCode).toBe(200);
      expect(await storedEvents(id)).toEqual([event]);
    }
  });

  it('treats null attributes as unset, and keeps a null data as null', async () => {
    const event = sampleEvent({ id: 'nulls', subject: null, data: null });
    expect((await publish(event)).statusCode).toBe(200);
    const [stored] = await storedEvents('nulls');
    expect(stored).not.toHaveProperty('subject');
    expect(stored).toHaveProperty('data', null);
  });

  it('accepts binary and structured events from the official CloudEvents SDK', async () => {
    const binary = new CloudEvent({
      id: 'sdk-binary',
      source: 'https://sdk.example/app',
      type: 'sdk.tested',
      resource,
      subject: '/party/5',
      data: { hello: 'world' },
    });
    const structured = binary.cloneWith({ id: 'sdk-structured' });
    for (const message of [HTTP.binary(binary), HTTP.structured(structured)]) {
      const response = await t.app.inject({
        method: 'POST',
        url: publishUrl,
        headers: { ...t.auth, ...message.headers },
        payload: message.body as string,
      });
      expect(response.statusCode).toBe(200);
    }
    const [fromBinary, fromStructured] = await storedEvents('sdk-binary', 'sdk-structured');
    expect(fromBinary).toMatchObject({
      subject: '/party/5',
      resource,
      data: { hello: 'world' },
      datacontenttype: 'application/json; charset=utf-8',
    });
    expect(fromStructured).toMatchObject({ data: { hello: 'world' }, resource });
  });

  it('keeps a binary body as text for text media types and as data_base64 for other bytes', async () => {
    const ceHeaders = (id: string) => ({
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-source': 'https://binary.example/x',
      'ce-type': 'binary.tested',
      'ce-resource': resource,
      'ce-subject': '/person/%C3%A6%C3%B8%C3%A5', // percent-encoded UTF-8, decoded once
    });
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: publishUrl,
          headers: { ...t.auth, ...ceHeaders('bin-text'), 'content-type': 'text/plain' },
          payload: 'hei på deg',
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: publishUrl,
          headers: { ...t.auth, ...ceHeaders('bin-bytes'), 'content-type': 'application/octet-stream' },
          payload: bytes,
        })
      ).statusCode,
    ).toBe(200);
    const [text, binary] = await storedEvents('bin-text', 'bin-bytes');
    expect(text).toMatchObject({ data: 'hei på deg', subject: '/person/æøå', datacontenttype: 'text/plain' });
    expect(binary).toMatchObject({
      data_base64: bytes.toString('base64'),
      datacontenttype: 'application/octet-stream',
    });
  });

  it('lets the admin scope publish and refuses a subscribe-only token', async () => {
    const admin = await testToken({ scope: 'altinn:events.publish.admin' });
    const reader = await testToken({ scope: 'altinn:events.subscribe' });
    const send = (token: string) =>
      t.app.inject({
        method: 'POST',
        url: publishUrl,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/cloudevents+json' },
        payload: sampleEvent(),
      });
    expect((await send(admin)).statusCode).toBe(200);
    expect((await send(reader)).statusCode).toBe(403);
  });
});
