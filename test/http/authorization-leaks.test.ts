import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Policy, policyAuthorizer } from '../../src/domain/policy.js';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, defaultLimits, sampleEvent, type TestApp } from '../support/test-app.js';

const readable = 'urn:altinn:resource:leaks.readable';
const hidden = 'urn:altinn:resource:leaks.hidden';

describeEachEngine('Nothing of a denied event leaks, on $name', (engine) => {
  let t: TestApp;
  const policy: Policy = {
    grants: [
      { consumer: '/org/ttd', actions: ['publish'], resources: ['*'] },
      { consumer: '/org/ttd', actions: ['subscribe', 'read'], resources: [readable], subjects: ['/party/1'] },
    ],
  };
  beforeAll(async () => {
    t = await createTestApp(engine, defaultLimits, { authorizer: policyAuthorizer(() => policy) });
    const response = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { ...t.auth, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify([
        sampleEvent({ id: 'hidden-resource', resource: hidden, subject: '/party/1' }),
        sampleEvent({ id: 'hidden-subject', resource: readable, subject: '/party/2' }),
        sampleEvent({ id: 'shown', resource: readable, subject: '/party/1' }),
      ]),
    });
    expect(response.statusCode).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers an after naming an event the caller may not read exactly as an unknown one', async () => {
    for (const id of ['hidden-resource', 'hidden-subject', 'no-such-event']) {
      const response = await t.app.inject({
        method: 'GET',
        url: `/events/api/v1/events?after=${id}&resource=${readable}`,
        headers: t.auth,
      });
      expect(response.statusCode, id).toBe(400);
      expect(response.json()).toMatchObject({ code: 'events:unknownCursor' });
    }
  });

  it('lists the delivery of an event the subscriber may not read without anything of the event, not even its id', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: t.auth,
      payload: { resourceFilter: readable },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json();
    const publish = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { ...t.auth, 'content-type': 'application/cloudevents-batch+json' },
      payload: JSON.stringify([
        sampleEvent({ id: 'queued-hidden', resource: readable, subject: '/party/2' }),
        sampleEvent({ id: 'queued-shown', resource: readable, subject: '/party/1' }),
      ]),
    });
    expect(publish.statusCode).toBe(200);
    const listing = await t.app.inject({ method: 'GET', url: `/events/api/v1/subscriptions/${id}/deliveries`, headers: t.auth });
    expect(listing.statusCode).toBe(200);
    expect(listing.json().deliveries.map((d: { eventId?: string }) => d.eventId)).toEqual([undefined, 'queued-shown']);
    expect(listing.body).not.toContain('queued-hidden');
  });
});
