/**
 * Tracing's cost, A/B in one process (issue 16): Herald as it was before tracing (a copy of the tree at that
 * commit, given as the argument), Herald with tracing unset, and Herald exporting to a local OTLP sink, each on
 * its own SQLite file, driven through `app.inject` in turns of 400 publishes (50 at a time) and their webhook
 * deliveries to one loopback receiver. The turns alternate, so whatever else the machine does weighs on all
 * three alike; the figure is the process's CPU (every thread: SQLite's too) per event, the median of the turns.
 *
 *   node --import tsx bench/tracing-ab.ts /tmp/herald-base [rounds, default 36]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const baseTree = resolve(process.argv[2] ?? '/tmp/herald-base');
const rounds = Number(process.argv[3] ?? 36);
const perTurn = 400;
const inFlight = 50;

type Herald = { app: { inject: (o: object) => Promise<{ statusCode: number; body: string }> }; dispatcher: { runOnce(): Promise<number> }; close(): Promise<void> };

async function sink(): Promise<{ url: string; spans: () => number }> {
  let spans = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] };
      for (const r of body.resourceSpans) for (const s of r.scopeSpans) spans += s.spans.length;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  server.unref();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, spans: () => spans };
}

async function receiver(): Promise<string> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200).end());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

async function assemble(tree: string, tracing: unknown): Promise<Herald> {
  const { SqliteStore } = await import(join(tree, 'src/store/sqlite/sqlite-store.ts'));
  const { assembleHerald } = await import(join(tree, 'test/support/test-app.ts'));
  const store = await SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'herald-ab-')), 'herald.db'));
  return assembleHerald(store, { tracing, timeoutMs: 10_000, dispatcher: { maxInFlight: 128 } });
}

const here = resolve(new URL('..', import.meta.url).pathname);
const { testToken } = await import(join(here, 'test/support/tokens.ts'));
const { startTracing } = await import(join(here, 'src/observability/tracing/tracing.ts'));
const otlp = await sink();
const hook = await receiver();
const token = await testToken();
const variants: Record<string, Herald> = {
  before: await assemble(baseTree, undefined),
  off: await assemble(here, undefined),
  on: await assemble(here, await startTracing({ serviceName: 'herald-ab', url: otlp.url })),
};
for (const herald of Object.values(variants)) {
  const created = await herald.app.inject({
    method: 'POST',
    url: '/events/api/v1/subscriptions',
    headers: { authorization: `Bearer ${token}` },
    payload: { endpoint: hook, resourceFilter: 'urn:altinn:resource:bench' },
  });
  if (created.statusCode !== 201) throw new Error(created.body);
  await herald.dispatcher.runOnce();
}

let sequence = 0;
const event = () => ({
  specversion: '1.0',
  id: crypto.randomUUID(),
  source: `https://ttd.apps.altinn.example/ttd/bench-app/instances/${sequence++}/${crypto.randomUUID()}`,
  type: 'app.instance.created',
  resource: 'urn:altinn:resource:bench',
  subject: '/party/50015641',
  time: new Date().toISOString(),
  data: { text: 'x'.repeat(500) },
});

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** One turn: publish, then deliver; CPU ms per event of each. */
async function turn(herald: Herald): Promise<{ publish: number; deliver: number }> {
  const before = cpuMs();
  for (let sent = 0; sent < perTurn; sent += inFlight) {
    const answers = await Promise.all(
      Array.from({ length: inFlight }, () =>
        herald.app.inject({
          method: 'POST',
          url: '/events/api/v1/events',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/cloudevents+json' },
          payload: JSON.stringify(event()),
        }),
      ),
    );
    if (answers.some((a) => a.statusCode !== 200)) throw new Error(answers.find((a) => a.statusCode !== 200)?.body);
  }
  const published = cpuMs();
  let delivered = 0;
  while (delivered < perTurn) delivered += await herald.dispatcher.runOnce();
  return { publish: (published - before) / perTurn, deliver: (cpuMs() - published) / perTurn };
}

const results: Record<string, { publish: number[]; deliver: number[] }> = {};
for (const name of Object.keys(variants)) results[name] = { publish: [], deliver: [] };
const [a, b, c] = Object.keys(variants) as [string, string, string];
const orders = [[a, b, c], [b, c, a], [c, a, b], [c, b, a], [b, a, c], [a, c, b]];
// A warm-up turn each, not counted.
for (const herald of Object.values(variants)) await turn(herald);
for (let round = 0; round < rounds; round++) {
  // Each of the six orders in turn, so no variant always runs first or after the same other.
  const order = orders[round % orders.length] as string[];
  for (const name of order) {
    const { publish, deliver } = await turn(variants[name] as Herald);
    results[name]?.publish.push(publish);
    results[name]?.deliver.push(deliver);
  }
}
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
for (const [name, { publish, deliver }] of Object.entries(results)) {
  process.stdout.write(
    `${name.padEnd(7)} publish ${median(publish).toFixed(3)} ms CPU/event (min ${Math.min(...publish).toFixed(3)})  ` +
      `deliver ${median(deliver).toFixed(3)} ms CPU/delivery (min ${Math.min(...deliver).toFixed(3)})\n`,
  );
}
process.stdout.write(`spans exported: ${otlp.spans()}\n`);
for (const herald of Object.values(variants)) await herald.close();
process.exit(0);
