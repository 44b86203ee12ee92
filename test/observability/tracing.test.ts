import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTracing, type Tracing } from '../../src/observability/tracing/tracing.js';
import { describeEachEngine } from '../support/engines.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js';
import { accept, startReceiver, type Receiver } from '../support/receiver.js';
import { createTestApp, sampleEvent, type TestApp } from '../support/test-app.js';

const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';
const producerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
const producerSpan = '00f067aa0ba902b7';
const producerTraceparent = `00-${producerTrace}-${producerSpan}-01`;
const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

const serverKind = 2;
const clientKind = 3;

describeEachEngine('Tracing with OpenTelemetry on $name', (engine) => {
  let t: TestApp;
  let webhooks: Receiver;
  let otlp: OtlpReceiver;
  let tracing: Tracing;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    tracing = (await startTracing({ serviceName: 'herald-under-test', url: otlp.url, exportEachSpan: true })) as Tracing;
    t = await createTestApp(engine, undefined, { tracing });
    webhooks = await startReceiver();
    const created = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: t.auth,
      payload: { endpoint: webhooks.url, resourceFilter: resource },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(await t.dispatcher.runOnce()).toBe(1); // the validation handshake
  });
  afterAll(async () => {
    await t?.close();
    await tracing?.shutdown(5_000);
    await webhooks?.close();
    await otlp?.close();
  });
  beforeEach(() => {
    webhooks.received.length = 0;
  });

  async function publish(payload: unknown, headers: Record<string, string> = {}, contentType = 'application/cloudevents+json') {
    const published = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { ...t.auth, 'content-type': contentType, ...headers },
      payload: JSON.stringify(payload),
    });
    expect(published.statusCode, published.body).toBe(200);
  }

  /** Delivers what is due and answers the webhook request of the event `id`, with its attempt's span. */
  async function deliver(id: string): Promise<{ headers: Record<string, unknown>; body: Record<string, unknown>; attempt: ReceivedSpan }> {
    await t.dispatcher.runOnce();
    const request = webhooks.events().find((r) => r.json.id === id);
    expect(request, `delivery of ${id}`).toBeDefined();
    const [attempt] = await otlp.waitFor((s) => s.name === 'deliver' && s.attributes['cloudevents.event_id'] === id);
    return { headers: request!.headers, body: request!.json, attempt: attempt! };
  }

  const publishSpanOf = async (id: string) =>
    (await otlp.waitFor((s) => s.kind === serverKind && s.attributes['cloudevents.event_id'] === id))[0]!;

  it('follows one event in one trace: the publish span, the commit linked to it, the attempt, and the webhook traceparent', async () => {
    const id = `traced-${engine.name}-1`;
    await publish(sampleEvent({ id }));
    const { headers, body, attempt } = await deliver(id);

    const publishSpan = await publishSpanOf(id);
    expect(publishSpan).toMatchObject({ name: 'POST /events/api/v1/events', parentSpanId: undefined, serviceName: 'herald-under-test' });
    expect(publishSpan.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/events/api/v1/events',
      'http.response.status_code': 200,
      'messaging.system': 'herald',
      'cloudevents.event_source': sampleEvent().source,
      'herald.publish.mode': 'structured',
    });

    const [commit] = await otlp.waitFor((s) => s.name === 'commit' && s.links.some((l) => l.spanId === publishSpan.spanId));
    expect(commit!.links).toContainEqual({ traceId: publishSpan.traceId, spanId: publishSpan.spanId });
    expect(commit!.attributes).toMatchObject({ 'db.system.name': engine.name === 'sqlite' ? 'sqlite' : 'postgresql' });

    // The attempt continues the publish's trace, and the webhook request carries the attempt's own context.
    expect(attempt).toMatchObject({ traceId: publishSpan.traceId, parentSpanId: publishSpan.spanId, kind: clientKind });
    expect(attempt.attributes).toMatchObject({ 'http.response.status_code': 200, 'herald.delivery.outcome': 'delivered', 'server.address': '127.0.0.1' });
    expect(headers.traceparent).toBe(`00-${publishSpan.traceId}-${attempt.spanId}-01`);
    // Herald added the extension the producer left out: the publish span is the event's starting trace.
    expect(body.traceparent).toBe(`00-${publishSpan.traceId}-${publishSpan.spanId}-01`);
  });

  it("makes the request's traceparent header the publish span's parent", async () => {
    const id = `traced-${engine.name}-2`;
    await publish(sampleEvent({ id }), { traceparent: producerTraceparent, tracestate: 'vendor=abc' });
    const { headers, body, attempt } = await deliver(id);
    const publishSpan = await publishSpanOf(id);
    expect(publishSpan).toMatchObject({ traceId: producerTrace, parentSpanId: producerSpan });
    expect(attempt).toMatchObject({ traceId: producerTrace, parentSpanId: publishSpan.spanId });
    expect(headers.traceparent).toBe(`00-${producerTrace}-${attempt.spanId}-01`);
    expect(headers.tracestate).toBe('vendor=abc');
    expect(body).toMatchObject({ traceparent: `00-${producerTrace}-${publishSpan.spanId}-01`, tracestate: 'vendor=abc' });
  });

  it("continues an event's own traceparent attribute, which it stores and delivers unchanged", async () => {
    const id = `traced-${engine.name}-3`;
    await publish(sampleEvent({ id, traceparent: producerTraceparent }));
    const { headers, body, attempt } = await deliver(id);
    const publishSpan = await publishSpanOf(id);
    expect(publishSpan).toMatchObject({ traceId: producerTrace, parentSpanId: producerSpan });
    expect(attempt).toMatchObject({ traceId: producerTrace, parentSpanId: producerSpan });
    expect(headers.traceparent).toBe(`00-${producerTrace}-${attempt.spanId}-01`);
    expect(body.traceparent).toBe(producerTraceparent);
  });

  it('continues the ce-traceparent of a binary-mode event, and links a batch to each event it carries', async () => {
    const binaryId = `traced-${engine.name}-4`;
    const event = sampleEvent({ id: binaryId });
    await publish({ hello: 'world' }, {
      'ce-specversion': '1.0',
      'ce-id': binaryId,
      'ce-source': String(event.source),
      'ce-type': String(event.type),
      'ce-resource': resource,
      'ce-traceparent': producerTraceparent,
    }, 'application/json; charset=utf-8');
    const { attempt } = await deliver(binaryId);
    expect(attempt).toMatchObject({ traceId: producerTrace, parentSpanId: producerSpan });

    const otherSpan = 'b7ad6b7169203331';
    await publish(
      [sampleEvent({ id: `${binaryId}-a`, traceparent: producerTraceparent }), sampleEvent({ id: `${binaryId}-b`, traceparent: `00-${producerTrace}-${otherSpan}-01` })],
      {},
      'application/cloudevents-batch+json',
    );
    const [batchSpan] = await otlp.waitFor((s) => s.kind === serverKind && s.attributes['messaging.batch.message_count'] === 2);
    expect(batchSpan!.parentSpanId).toBeUndefined();
    expect(batchSpan!.links).toEqual([
      { traceId: producerTrace, spanId: producerSpan },
      { traceId: producerTrace, spanId: otherSpan },
    ]);
  });

  it.each([
    ['a malformed traceparent header', { traceparent: '00-not-a-trace-01' }, {}],
    ['a malformed traceparent attribute', {}, { traceparent: 'garbage' }],
    ['an all-zero traceparent attribute', {}, { traceparent: `00-${'0'.repeat(32)}-${'0'.repeat(16)}-01` }],
    ['a traceparent attribute that is a number', {}, { traceparent: 42 }],
  ])('ignores %s: the event is stored (as sent) and delivered in a trace of its own', async (_case, headers, attributes: { traceparent?: unknown }) => {
    const id = `traced-${engine.name}-bad-${Object.keys(headers).length}-${String(attributes.traceparent).length}`;
    await publish(sampleEvent({ id, ...attributes }), headers);
    const { headers: sent, body, attempt } = await deliver(id);
    const publishSpan = await publishSpanOf(id);
    expect(publishSpan.parentSpanId).toBeUndefined();
    expect(publishSpan.links).toEqual([]);
    expect(sent.traceparent).toMatch(traceparentPattern);
    if ('traceparent' in attributes) {
      // The producer's attribute is theirs: kept, so Herald cannot add its own, and the attempt starts a trace.
      expect(body.traceparent).toBe(attributes.traceparent);
      expect(attempt.parentSpanId).toBeUndefined();
    } else {
      expect(attempt).toMatchObject({ traceId: publishSpan.traceId, parentSpanId: publishSpan.spanId });
    }
  });

  it("marks a failed attempt's span as an error, with the endpoint's status and the retry decided", async () => {
    const id = `traced-${engine.name}-failing`;
    webhooks.behave(() => ({ status: 503 }));
    try {
      await publish(sampleEvent({ id }));
      const { attempt } = await deliver(id);
      expect(attempt.attributes).toMatchObject({
        'http.response.status_code': 503,
        'error.type': '503',
        'herald.delivery.outcome': 'retry',
        'messaging.message.id': expect.stringMatching(/^msg_\d+$/),
      });
      expect(attempt.attributes).not.toHaveProperty('http.request.resend_count');
    } finally {
      webhooks.behave(accept);
    }
  });

  it('gives a refused publish a span too, with its status', async () => {
    const refused = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { 'content-type': 'application/cloudevents+json', traceparent: producerTraceparent },
      payload: JSON.stringify(sampleEvent()),
    });
    expect(refused.statusCode).toBe(401);
    const [span] = await otlp.waitFor((s) => s.kind === serverKind && s.attributes['http.response.status_code'] === 401);
    expect(span).toMatchObject({ traceId: producerTrace, parentSpanId: producerSpan });
  });
});

describe('Tracing off', () => {
  describeEachEngine('on $name', (engine) => {
    let t: TestApp;
    let webhooks: Receiver;
    beforeAll(async () => {
      t = await createTestApp(engine);
      webhooks = await startReceiver();
      await t.app.inject({
        method: 'POST',
        url: '/events/api/v1/subscriptions',
        headers: t.auth,
        payload: { endpoint: webhooks.url, resourceFilter: resource },
      });
      await t.dispatcher.runOnce();
    });
    afterAll(async () => {
      await t?.close();
      await webhooks?.close();
    });

    it('sends no traceparent header and stores the event as sent, its own traceparent kept in the body', async () => {
      for (const id of ['untraced-1', 'untraced-2']) {
        const event = sampleEvent(id === 'untraced-2' ? { id, traceparent: producerTraceparent } : { id });
        const published = await t.app.inject({
          method: 'POST',
          url: '/events/api/v1/events',
          headers: { ...t.auth, 'content-type': 'application/cloudevents+json', traceparent: producerTraceparent },
          payload: JSON.stringify(event),
        });
        expect(published.statusCode).toBe(200);
      }
      await t.dispatcher.runOnce();
      const delivered = webhooks.events();
      expect(delivered.map((r) => r.json.id).sort()).toEqual(['untraced-1', 'untraced-2']);
      for (const request of delivered) expect(request.headers.traceparent).toBeUndefined();
      expect(delivered.find((r) => r.json.id === 'untraced-1')!.json).not.toHaveProperty('traceparent');
      expect(delivered.find((r) => r.json.id === 'untraced-2')!.json.traceparent).toBe(producerTraceparent);
    });
  });
});
