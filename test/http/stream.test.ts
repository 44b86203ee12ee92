import { afterEach, describe, expect, it } from 'vitest';
import { HeraldMetrics } from '../../src/observability/herald-metrics.js';
import { describeEachEngine, type Engine } from '../support/engines.js';
import { type AssembleOptions, createTestApp, defaultLimits, type TestApp } from '../support/test-app.js';
import type { SseReader } from '../support/sse.js';
import { testToken } from '../support/tokens.js';
import { idsOf, listen, publish, refusedStream, stream, streamPath, streamResource } from './stream-harness.js';

/** Waits for a condition that the server reaches on its own (a closed stream's slot freed). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 1_500; tries++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never: ${what}`);
}

async function gauge(metrics: HeraldMetrics, name: string): Promise<number> {
  const metric = metrics.counts.getSingleMetric(name);
  return (await metric?.get())?.values[0]?.value ?? Number.NaN;
}

describeEachEngine('Event stream on $name', (engine: Engine) => {
  let herald: TestApp | undefined;
  const readers: SseReader[] = [];
  afterEach(async () => {
    for (const reader of readers.splice(0)) await reader.close();
    await herald?.close();
    herald = undefined;
  });

  /** Herald listening on loopback; the heartbeat stays at its default unless a test says otherwise. */
  async function start(options: AssembleOptions = {}): Promise<{ herald: TestApp; base: string }> {
    herald = await createTestApp(engine, defaultLimits, options);
    return { herald, base: await listen(herald) };
  }
  const opened = (reader: SseReader) => (readers.push(reader), reader);

  it('from after=0 sends every event in commit order with its position as the id, then events as they commit', async () => {
    const { herald, base } = await start();
    await publish(herald, 'e1', 'e2');
    await publish(herald, 'e3');
    const reader = opened(await stream(base, herald.auth, { after: '0' }));
    const first = await reader.messages(3);
    expect(idsOf(first)).toEqual(['e1', 'e2', 'e3']);
    const stored = await herald.store.readEvents({ afterSeq: 0, limit: 10 });
    expect(first.map((m) => m.id)).toEqual(stored.map((e) => `~${e.seq}`));
    expect(first.map((m) => m.event)).toEqual([undefined, undefined, undefined]);
    expect(JSON.parse(first[0]!.data)).toEqual(JSON.parse(stored[0]!.payload));
    // No heartbeat is due for 15 s: only the commit's announcement can bring these.
    await publish(herald, 'e4', 'e5');
    expect(idsOf(await reader.messages(2))).toEqual(['e4', 'e5']);
  });

  it('without after starts at the head: only events committed after the stream opened', async () => {
    const { herald, base } = await start();
    await publish(herald, 'before-1', 'before-2');
    const reader = opened(await stream(base, herald.auth));
    await publish(herald, 'after-1');
    expect(idsOf(await reader.messages(1))).toEqual(['after-1']);
  });

  it('resumes after Last-Event-ID (which wins over after): every event exactly once across the reconnect', async () => {
    const { herald, base } = await start();
    await publish(herald, 'r1', 'r2', 'r3', 'r4');
    const first = opened(await stream(base, herald.auth, { after: '0' }));
    const seen = await first.messages(2);
    expect(first.lastEventId).toBe(seen[1]!.id);
    await first.close();
    await publish(herald, 'r5', 'r6');
    const again = opened(await stream(base, herald.auth, { after: '0' }, { 'last-event-id': first.lastEventId }));
    const rest = await again.messages(4);
    expect(idsOf([...seen, ...rest])).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    // And with an event id as `after`, as a poll takes it.
    const byId = opened(await stream(base, herald.auth, { after: 'r5' }));
    expect(idsOf(await byId.messages(1))).toEqual(['r6']);
  });

  it('sends only events that pass the filters: another resource, type or source never appears', async () => {
    const { herald, base } = await start();
    const reader = opened(
      await stream(base, herald.auth, { after: '0', type: ['created', 'deleted'], source: 'https://stream.test/app' }),
    );
    await publish(
      herald,
      { id: 'other-resource', type: 'created', source: 'https://stream.test/app', resource: 'urn:altinn:resource:herald.elsewhere' },
      { id: 'other-type', type: 'updated', source: 'https://stream.test/app' },
      { id: 'other-source', type: 'created', source: 'https://stream.test/apple' },
      { id: 'kept-1', type: 'created', source: 'https://stream.test/app/instances/1' },
    );
    await publish(herald, { id: 'other-type-2', type: 'updated', source: 'https://stream.test/app' }, { id: 'kept-2', type: 'deleted', source: 'https://stream.test/app' });
    expect(idsOf(await reader.messages(2))).toEqual(['kept-1', 'kept-2']);
  });

  it('sends a heartbeat comment on its period while nothing is committed', async () => {
    const { herald, base } = await start({ streams: { heartbeatMs: 50 } });
    const reader = opened(await stream(base, herald.auth));
    const comments: string[] = [];
    while (!comments.includes('heartbeat')) {
      const item = await reader.next();
      expect(item?.kind).toBe('comment');
      if (item?.kind === 'comment') comments.push(item.text);
    }
    // Heartbeats and events interleave as whole messages.
    await publish(herald, 'between-heartbeats');
    expect(idsOf(await reader.messages(1))).toEqual(['between-heartbeats']);
  });

  it('bounds the streams per consumer (429 with Retry-After) while another consumer still opens; a disconnect frees the slot', async () => {
    const { herald, base } = await start({ streams: { limits: { perConsumer: 2, perProcess: 100 } } });
    const mine = [opened(await stream(base, herald.auth)), opened(await stream(base, herald.auth))];
    const { problem, headers } = await refusedStream(base, herald.auth, { resource: streamResource }, 429, 'events:tooManyRequests');
    expect(problem.detail).toMatch(/2 streams open at once/);
    expect(Number(headers.get('retry-after'))).toBeGreaterThan(0);
    const other = { authorization: `Bearer ${await testToken({ claims: { org: 'other' } })}` };
    opened(await stream(base, other));
    await mine[0]!.close();
    await eventually(async () => {
      const attempt = await stream(base, herald.auth).catch(() => undefined);
      if (attempt) opened(attempt);
      return attempt !== undefined;
    }, 'the closed stream freed its slot');
    await publish(herald, 'to-the-new-one');
    expect(idsOf(await readers.at(-1)!.messages(1))).toEqual(['to-the-new-one']);
  });

  it('bounds the streams of the whole process, for every consumer', async () => {
    const { herald, base } = await start({ streams: { limits: { perConsumer: 5, perProcess: 1 } } });
    opened(await stream(base, herald.auth));
    const other = { authorization: `Bearer ${await testToken({ claims: { org: 'other' } })}` };
    const { problem, headers } = await refusedStream(base, other, { resource: streamResource }, 429, 'events:tooManyRequests');
    expect(problem.detail).toMatch(/as many streams open as it serves \(1\)/);
    expect(headers.get('retry-after')).toBe('5');
  });

  it('counts opening a stream as one read against the read rate limit', async () => {
    const { herald, base } = await start({ rateLimits: { publishPerSecond: 0, readPerSecond: 1 } });
    // The burst is twice the rate: two opens, then the third is over it.
    opened(await stream(base, herald.auth));
    opened(await stream(base, herald.auth));
    const { problem } = await refusedStream(base, herald.auth, { resource: streamResource }, 429, 'events:tooManyRequests');
    expect(problem.detail).toMatch(/Too many reads/);
  });

  it("ends when the caller's token expires, so the client reconnects with a fresh one", async () => {
    const { herald, base } = await start();
    await publish(herald, 'before-expiry');
    const shortLived = { authorization: `Bearer ${await testToken({ expiresIn: 3 })}` };
    const reader = opened(await stream(base, shortLived, { after: '0' }));
    expect(idsOf(await reader.messages(1))).toEqual(['before-expiry']);
    expect(await reader.nextMessage()).toBeUndefined();
  });

  describe('refuses before streaming, with problem details', () => {
    it.each([
      [{}, 'resource', "The 'resource' or 'source' parameter must be defined."],
      [{ resource: 'not a urn' }, 'resource', "The 'resource' parameter must be a valid urn."],
      [{ resource: streamResource, after: '' }, 'after', "The 'after' parameter must not be empty."],
      [{ resource: streamResource, subject: '/party/1', alternativesubject: '/person/1' }, 'subject', "Only one of 'subject' or 'alternativeSubject' can be defined."],
      [{ resource: streamResource, type: '' }, 'type', "The 'type' parameter must not be empty."],
    ])('%j: 400 on %s', async (query, field, message) => {
      const { herald, base } = await start();
      const { problem } = await refusedStream(base, herald.auth, query as Record<string, string>, 400, 'events:invalidQuery');
      expect(problem.errors?.[field]).toContain(message);
    });

    it('an unknown cursor, in after or Last-Event-ID, or a position beyond the log: 400 events:unknownCursor', async () => {
      const { herald, base } = await start();
      await publish(herald, 'known');
      await refusedStream(base, herald.auth, { resource: streamResource, after: 'never-published' }, 400, 'events:unknownCursor');
      await refusedStream(base, herald.auth, { resource: streamResource }, 400, 'events:unknownCursor', { 'last-event-id': 'never-published' });
      await refusedStream(base, herald.auth, { resource: streamResource, after: '~999999999999999' }, 400, 'events:unknownCursor');
    });

    it('no token: 401; a token without the subscribe scope: 403', async () => {
      const { herald, base } = await start();
      await refusedStream(base, {}, { resource: streamResource }, 401, 'events:unauthenticated');
      const publisher = { authorization: `Bearer ${await testToken({ scope: 'altinn:events.publish' })}` };
      await refusedStream(base, publisher, { resource: streamResource }, 403, 'events:forbidden');
      void herald;
    });
  });

  it('stays open past the request timeout, which bounds receiving a request, not answering it', async () => {
    const { herald, base } = await start({ requestTimeoutMs: 200 });
    const reader = opened(await stream(base, herald.auth));
    // Several request timeouts (and the server's one-second checks of them) go by.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await publish(herald, 'long-after');
    expect(idsOf(await reader.messages(1))).toEqual(['long-after']);
  });

  it('answers HEAD with the headers a stream would have, and follows nothing for it', async () => {
    const { herald, base } = await start({ streams: { limits: { perConsumer: 1, perProcess: 10 } } });
    for (let i = 0; i < 3; i++) {
      const head = await fetch(`${base}${streamPath}?resource=${encodeURIComponent(streamResource)}`, { method: 'HEAD', headers: herald.auth });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    }
    // No HEAD held the consumer's one slot.
    opened(await stream(base, herald.auth));
  });

  it('closes open streams when the server closes, and the close does not wait for them', async () => {
    const { herald, base } = await start();
    const reader = opened(await stream(base, herald.auth));
    await herald.app.close();
    expect(await reader.nextMessage()).toBeUndefined();
  });

  it('stops reading the log while its client does not read, and sends the rest once it does', async () => {
    const metrics = new HeraldMetrics();
    const { herald, base } = await start({ metrics, limits: { ...defaultLimits, maxRequestBytes: 4 * 1024 * 1024 } });
    // Far more than the socket's buffers hold on loopback: about 24 MiB.
    const data = 'x'.repeat(60 * 1024);
    const total = 400;
    for (let batch = 0; batch < total / 40; batch++) {
      await publish(herald, ...Array.from({ length: 40 }, (_, i) => ({ id: `big-${batch * 40 + i}`, data })));
    }
    const reader = opened(await stream(base, herald.auth, { after: '0' }));
    // The client reads nothing: the stream must come to a stop, having sent only part of the log.
    await eventually(async () => (await gauge(metrics, 'herald_blocked_streams')) === 1, 'the stream waits for its client');
    const sentWhenBlocked = await gauge(metrics, 'herald_streamed_events_total');
    expect(sentWhenBlocked).toBeLessThan(total);
    // A commit while it waits does not make it read on: another stream, reading, gets the event (so the commit
    // was announced and handled), and that one event is all that was sent meanwhile.
    const watcher = opened(await stream(base, herald.auth));
    await publish(herald, { id: 'while-blocked' });
    expect(idsOf(await watcher.messages(1))).toEqual(['while-blocked']);
    expect(await gauge(metrics, 'herald_blocked_streams')).toBe(1);
    expect(await gauge(metrics, 'herald_streamed_events_total')).toBe(sentWhenBlocked + 1);
    // Once the client reads, everything arrives, in order, each once.
    const received = idsOf(await reader.messages(total + 1));
    expect(received).toEqual([...Array.from({ length: total }, (_, i) => `big-${i}`), 'while-blocked']);
  }, 90_000);
});
