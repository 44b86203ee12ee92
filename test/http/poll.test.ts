import { CloudEvent, HTTP } from 'cloudevents';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { baseUrl, createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';

const resource = 'urn:altinn:resource:polling.test';

describeEachEngine('Polling on $name', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(engine);
  });
  afterAll(async () => {
    await t?.close();
  });

  const publish = async (events: object[]) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { ...t.auth, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify(events),
    });
    expect(response.statusCode).toBe(200);
  };
  const poll = (url: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url: url.replace(baseUrl, ''), headers: { ...t.auth, ...headers } });
  const idsOf = (response: { json(): unknown }) => (response.json() as { id: string }[]).map((e) => e.id);

  it('answers the spec/000 example query as written: events after the given id, filtered by source, type and subject', async () => {
    await publish([
      sampleEvent({
        id: '6edc1976-5dd5-4b08-a570-55d9942aa89f',
        source: 'https://platform.altinn.no/',
        resource,
      }),
      sampleEvent({
        id: 'match-1',
        source: 'https://platform.altinn.no/ttd/app/instances/1',
        type: 'no.altinn.storage.instance.created',
        subject: 'org/123456789',
        resource,
      }),
      sampleEvent({
        id: 'wrong-type',
        source: 'https://platform.altinn.no/',
        type: 'no.altinn.storage.instance.deleted',
        subject: 'org/123456789',
        resource,
      }),
      sampleEvent({
        id: 'wrong-source',
        source: 'https://platform.altinn.no.evil/',
        type: 'no.altinn.storage.instance.created',
        subject: 'org/123456789',
        resource,
      }),
      sampleEvent({
        id: 'match-2',
        source: 'https://platform.altinn.no/',
        type: 'no.altinn.storage.instance.created',
        subject: 'org/123456789',
        resource,
      }),
    ]);
    const response = await poll(
      '/events?after=6edc1976-5dd5-4b08-a570-55d9942aa89f&source=https%3A%2F%2Fplatform.altinn.no%2F&type=no.altinn.storage.instance.created&subject=org/123456789'.replace(
        '/events',
        '/events/api/v1/events',
      ),
    );
    expect(response.statusCode).toBe(200);
    expect(idsOf(response)).toEqual(['match-1', 'match-2']);
  });

  it('pages in commit order with a next header and Link that carry the filters, URL-encoded, to the end', async () => {
    const source = 'https://paging.example/a%20b/%C3%B8?x=1&y=2';
    await publish(
      Array.from({ length: 7 }, (_, i) =>
        sampleEvent({ id: `page-${i}`, source, type: i % 2 ? 'odd' : 'even' }),
      ),
    );
    const seen: string[] = [];
    let url = `/events/api/v1/events?after=0&source=${encodeURIComponent(source)}&size=3&type=odd&type=even`;
    for (let calls = 0; calls < 10; calls++) {
      const response = await poll(url);
      expect(response.statusCode).toBe(200);
      const next = response.headers.next as string;
      expect(response.headers.link).toBe(`<${next}>; rel="next"`);
      expect(next.startsWith(`${baseUrl}/events/api/v1/events?after=`)).toBe(true);
      const query = new URL(next).searchParams;
      expect(query.get('source')).toBe(source);
      expect(query.getAll('type')).toEqual(['odd', 'even']);
      expect(next).not.toContain('&y=2');
      if (idsOf(response).length === 0) break;
      seen.push(...idsOf(response));
      url = next;
    }
    expect(seen).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
  });

  it('gives a next link on an empty page that picks up events published later, exactly once', async () => {
    const source = 'https://later.example/';
    const first = await poll(`/events/api/v1/events?after=0&source=${encodeURIComponent(source)}`);
    expect(idsOf(first)).toEqual([]);
    await publish([sampleEvent({ id: 'later-1', source })]);
    const second = await poll(first.headers.next as string);
    expect(idsOf(second)).toEqual(['later-1']);
    const third = await poll(second.headers.next as string);
    expect(idsOf(third)).toEqual([]);
    await publish([sampleEvent({ id: 'later-2', source })]);
    expect(idsOf(await poll(third.headers.next as string))).toEqual(['later-2']);
  });

  it('moves the cursor past events that do not match, so an empty page still advances, and misses nothing', async () => {
    const mine = 'https://advance.example/';
    await publish([sampleEvent({ id: 'others-1', source: 'https://elsewhere.example/' })]);
    const empty = await poll(`/events/api/v1/events?after=0&source=${encodeURIComponent(mine)}`);
    expect(idsOf(empty)).toEqual([]);
    const head = await t.store.headPosition();
    expect(new URL(empty.headers.next as string).searchParams.get('after')).toBe(`~${head}`);
    await publish([sampleEvent({ id: 'others-2', source: 'https://elsewhere.example/' }), sampleEvent({ id: 'mine-1', source: mine })]);
    expect(idsOf(await poll(empty.headers.next as string))).toEqual(['mine-1']);
  });

  it('reads the alternative subject from the Altinn-AlternativeSubject header and keeps it out of the next link', async () => {
    await publish([
      sampleEvent({ id: 'alt-1', resource, alternativesubject: '/person/16069412345' }),
      sampleEvent({ id: 'alt-2', resource, alternativesubject: '/person/01017012345' }),
    ]);
    const response = await poll(`/events/api/v1/events?after=0&resource=${resource}`, {
      'altinn-alternativesubject': '/person/16069412345',
    });
    expect(idsOf(response)).toEqual(['alt-1']);
    expect(response.headers.next).not.toContain('16069412345');
    const byQuery = await poll(
      `/events/api/v1/events?after=0&resource=${resource}&alternativesubject=/person/01017012345`,
    );
    expect(idsOf(byQuery)).toEqual(['alt-2']);
  });

  it('clamps size as Altinn does: below 1 means 50, above 1000 means 1000', async () => {
    const source = 'https://sizes.example/';
    const events = Array.from({ length: 1001 }, (_, i) => sampleEvent({ id: `size-${i}`, source }));
    await publish(events.slice(0, 600));
    await publish(events.slice(600));
    const count = async (size: string) =>
      idsOf(await poll(`/events/api/v1/events?after=0&source=${encodeURIComponent(source)}&size=${size}`))
        .length;
    expect(await count('0')).toBe(50);
    expect(await count('-5')).toBe(50);
    expect(await count('5000')).toBe(1000);
    expect(await count('17')).toBe(17);
  });

  it('resolves an id shared by two sources within the source the poll names', async () => {
    await publish([
      sampleEvent({ id: 'shared', source: 'https://one.example/', resource }),
      sampleEvent({ id: 'after-shared-1', source: 'https://two.example/', resource }),
      sampleEvent({ id: 'shared', source: 'https://two.example/', resource }),
      sampleEvent({ id: 'after-shared-2', source: 'https://two.example/', resource }),
    ]);
    const response = await poll(
      `/events/api/v1/events?after=shared&source=${encodeURIComponent('https://two.example/')}`,
    );
    expect(idsOf(response)).toEqual(['after-shared-2']);
  });

  it('serves a page the official CloudEvents SDK reads as a batch', async () => {
    const response = await poll(`/events/api/v1/events?after=0&resource=${resource}&size=2`);
    expect(response.headers['content-type']).toBe('application/cloudevents-batch+json; charset=utf-8');
    const events = HTTP.toEvent({ headers: response.headers as Record<string, string>, body: response.body });
    expect(Array.isArray(events)).toBe(true);
    expect(
      (events as CloudEvent<unknown>[]).every((e) => e instanceof CloudEvent && e.specversion === '1.0'),
    ).toBe(true);
  });
});
