import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openapiPath } from '../../src/http/openapi.js';
import { type Engine, skippedIfUnavailable, type TestDatabase } from '../support/engines.js';
import { freePort, startHeraldProcess } from '../support/herald-process.js';
import { testToken } from '../support/tokens.js';
import { scratchFolder, type OpenApiDocument } from './served-document.js';

/**
 * Prism reads every `application/<anything>+json` as `application/json` (it keeps only the suffix), so it
 * checks a batch (`application/cloudevents-batch+json`) against the first JSON media type of the operation,
 * `application/cloudevents+json`, and refuses the array. The copy Prism is given therefore has, in that first
 * JSON media type of each body, a schema taking any of the operation's JSON media types (an anyOf of them):
 * a batch and binary mode's `application/json` data pass, and every other body keeps its own schema.
 */
export function forPrism(document: OpenApiDocument): OpenApiDocument {
  const copy = structuredClone(document) as OpenApiDocument;
  for (const operations of Object.values(copy.paths)) {
    for (const operation of Object.values(operations)) {
      const content = operation.requestBody?.content ?? {};
      const json = Object.keys(content).filter((mediaType) => /^application\/([^/]+\+)?json$/.test(mediaType));
      const first = json[0];
      if (first === undefined || json.length < 2) continue;
      content[first] = { ...content[first], schema: { anyOf: json.map((mediaType) => content[mediaType]?.schema ?? {}) } };
    }
  }
  return copy;
}

const api = '/events/api/v1';
const resource = 'urn:altinn:resource:prism.flows';

/** A webhook receiver on loopback that accepts every delivery (and so every validation handshake). */
async function startReceiver(): Promise<{ server: Server; url: string; received: unknown[] }> {
  const received: unknown[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

/** Prism as a validating proxy in front of `upstream`, refusing (with --errors) any request or answer the document does not allow. */
async function startPrism(documentFile: string, upstream: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(
    resolve('node_modules/.bin/prism'),
    ['proxy', documentFile, upstream, '--errors', '--host', '127.0.0.1', '--port', String(port)],
    { stdio: 'ignore' },
  );
  const base = `http://127.0.0.1:${port}`;
  // Prism takes seconds to start, more on a loaded machine.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await fetch(`${base}/health`).catch(() => undefined))?.ok) return { child, base };
    await new Promise((done) => setTimeout(done, 200));
  }
  child.kill('SIGKILL');
  throw new Error('prism did not start');
}

/**
 * The end-to-end flows, each call through Prism (`prism proxy --errors`) in front of a real `herald serve` on
 * `engine`. One Prism per test file: it takes seconds to start.
 */
export function describePrismFlows(engine: Engine): void {
  describe(`the end-to-end flows through Prism (--errors) in front of a real Herald on ${engine.name}`, () => {
    if (skippedIfUnavailable(engine)) return;
    const folder = scratchFolder('prism');
    let db: TestDatabase;
    let herald: { child: ChildProcess; base: string };
    let prism: { child: ChildProcess; base: string };
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let auth: Record<string, string>;
    /** Every answer Prism flagged (its `sl-violations` header), by request. */
    const violations: string[] = [];

    /** A call through Prism that must get `status`, with no violation of the document either way. */
    async function call(method: string, path: string, status: number, init: { headers?: Record<string, string>; body?: string } = {}) {
      const answer = await fetch(`${prism.base}${path}`, { method, headers: { ...auth, ...init.headers }, body: init.body });
      const text = await answer.text();
      const flagged = answer.headers.get('sl-violations');
      if (flagged) violations.push(`${method} ${path}: ${flagged}`);
      expect(answer.status, `${method} ${path}: ${text.slice(0, 400)}`).toBe(status);
      const isJson = /json/.test(answer.headers.get('content-type') ?? '');
      return { answer, json: isJson && text !== '' ? (JSON.parse(text) as unknown) : undefined, text };
    }
    const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const event = (id: string, extra: Record<string, unknown> = {}) => ({
      specversion: '1.0',
      id,
      source: 'https://shop.example/orders',
      type: 'order.created',
      resource,
      data: { orderId: 42 },
      ...extra,
    });

    beforeAll(async () => {
      db = await engine.create();
      receiver = await startReceiver();
      herald = await startHeraldProcess(db.database, { HERALD_ALLOW_PRIVATE_ENDPOINTS: 'true', HERALD_RETRY_SCHEDULE: '1s' });
      const document = (await (await fetch(`${herald.base}${openapiPath}`)).json()) as OpenApiDocument;
      const file = join(folder.path, 'openapi-for-prism.json');
      writeFileSync(file, JSON.stringify(forPrism(document)));
      prism = await startPrism(file, herald.base);
      auth = { authorization: `Bearer ${await testToken()}` };
    }, 120_000);

    afterAll(async () => {
      prism?.child.kill();
      herald?.child.kill();
      await new Promise((done) => receiver?.server.close(done));
      await db?.destroy();
      folder.remove();
    });

    it('publishes structured, Altinn-style, batch and binary (text, JSON, bytes) events', async () => {
      const structured = { headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event('s1', { myext: 7 })) };
      await call('POST', `${api}/events`, 200, structured);
      await call('POST', `${api}/events`, 200, json(event('j1')));
      await call('POST', `${api}/events`, 200, {
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify([event('b1'), event('b2', { partitionkey: 'customer-7' })]),
      });
      const ce = (id: string) => ({
        'ce-specversion': '1.0',
        'ce-id': id,
        'ce-source': 'https://shop.example/orders',
        'ce-type': 'order.created',
        'ce-resource': resource,
      });
      await call('POST', `${api}/events`, 200, { headers: { ...ce('t1'), 'content-type': 'text/plain' }, body: 'hello' });
      await call('POST', `${api}/events`, 200, { headers: { ...ce('x1'), 'content-type': 'application/json' }, body: '{"orderId":43}' });
      await call('POST', `${api}/events`, 200, { headers: { ...ce('o1'), 'content-type': 'application/octet-stream' }, body: '\u0001\u0002' });
      // The problems a publisher meets are documented too.
      await call('POST', `${api}/events`, 400, { headers: { 'content-type': 'application/cloudevents+json' }, body: '{"specversion":"1.0"' });
      await call('POST', `${api}/events`, 401, { ...structured, headers: { ...structured.headers, authorization: 'Bearer nonsense' } });
      expect(violations).toEqual([]);
    });

    it('polls the log, follows next, and takes the alternative subject as a header', async () => {
      const first = await call('GET', `${api}/events?after=0&resource=${encodeURIComponent(resource)}&size=2`, 200);
      expect((first.json as unknown[]).length).toBe(2);
      const next = new URL(first.answer.headers.get('next') ?? '');
      const rest = await call('GET', `${next.pathname}${next.search}`, 200);
      expect((rest.json as unknown[]).length).toBe(2);
      await call('GET', `${api}/events?after=0&resource=${encodeURIComponent(resource)}`, 200, {
        headers: { 'altinn-alternativesubject': '/person/16069412345' },
      });
      await call('GET', `${api}/events?after=no-such-event&resource=${encodeURIComponent(resource)}`, 400);
      await call('GET', `${api}/events?after=0`, 400);
      expect(violations).toEqual([]);
    });

    it('creates, reads, lists, pulls from and deletes a pull subscription', async () => {
      const created = await call('POST', `${api}/subscriptions`, 201, json({ resourceFilter: resource }));
      const id = (created.json as { id: number }).id;
      expect(created.answer.headers.get('location')).toMatch(new RegExp(`/subscriptions/${id}$`));
      await call('GET', `${api}/subscriptions/${id}`, 200);
      await call('GET', `${api}/subscriptions?size=10`, 200);
      await call('POST', `${api}/events`, 200, json(event('p1')));
      const page = await call('GET', `${api}/subscriptions/${id}/events?limit=10&wait=0`, 200);
      const { checkPoint, events } = page.json as { checkPoint: string; events: unknown[] };
      expect(events.length).toBe(1);
      await call('GET', `${api}/subscriptions/${id}/events?checkPoint=${encodeURIComponent(checkPoint)}&wait=0`, 200);
      await call('GET', `${api}/subscriptions/${id}/events?checkPoint=nonsense`, 400);
      await call('POST', `${api}/subscriptions/${id}/replay`, 200, json({ after: '0', dryRun: true }));
      await call('DELETE', `${api}/subscriptions/${id}`, 200);
      await call('GET', `${api}/subscriptions/${id}`, 404);
      expect(violations).toEqual([]);
    });

    it('delivers to a push subscription and shows its deliveries, attempts, resend, ping, secret and replays', async () => {
      const created = await call('POST', `${api}/subscriptions`, 201, json({ endPoint: receiver.url, resourceFilter: resource }));
      const id = (created.json as { id: number }).id;
      await expect.poll(async () => ((await call('GET', `${api}/subscriptions/${id}`, 200)).json as { validated: boolean }).validated, { timeout: 20_000 }).toBe(true);
      await call('POST', `${api}/events`, 200, json(event('d1')));
      let deliveryId = 0;
      await expect
        .poll(
          async () => {
            const listed = (await call('GET', `${api}/subscriptions/${id}/deliveries?status=delivered`, 200)).json as { deliveries: { id: number }[] };
            deliveryId = listed.deliveries[0]?.id ?? 0;
            return deliveryId;
          },
          { timeout: 20_000 },
        )
        .toBeGreaterThan(0);
      await call('GET', `${api}/subscriptions/${id}/deliveries/${deliveryId}`, 200);
      await call('GET', `${api}/subscriptions/${id}/deliveries/${deliveryId}/attempts`, 200);
      await call('POST', `${api}/subscriptions/${id}/deliveries/${deliveryId}/resend`, 200);
      await call('POST', `${api}/subscriptions/${id}/deliveries/redrive`, 200, json({}));
      await call('GET', `${api}/subscriptions/${id}/deliveries?status=nonsense`, 422); // Prism refuses it first: not in the enum
      await call('POST', `${api}/subscriptions/${id}/ping`, 200);
      await call('POST', `${api}/subscriptions/${id}/validate`, 202);
      await call('POST', `${api}/subscriptions/${id}/secret/rotate`, 200, json({ graceSeconds: 60 }));
      const replay = await call('POST', `${api}/subscriptions/${id}/replay`, 202, json({ after: '0' }));
      const replayId = (replay.json as { id: number }).id;
      await call('GET', `${api}/subscriptions/${id}/replays`, 200);
      await call('GET', `${api}/subscriptions/${id}/replays/${replayId}`, 200);
      await call('POST', `${api}/filters/evaluate`, 200, json({ expression: "type = 'order.created'", event: event('f1') }));
      await call('POST', `${api}/filters/test`, 200, json({ resourceFilter: resource, sample: 10 }));
      await call('DELETE', `${api}/subscriptions/${id}`, 200);
      expect(receiver.received.length).toBeGreaterThanOrEqual(2);
      expect(violations).toEqual([]);
    });

    it('serves health, readiness, metrics and the document as documented', async () => {
      await call('GET', '/health', 200);
      await call('GET', '/ready', 200);
      await call('GET', '/metrics', 200);
      await call('GET', openapiPath, 200);
      expect(violations).toEqual([]);
    });
  });
}
