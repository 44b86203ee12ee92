// Runs every TypeScript example of docs/client.md and docs/delivery.md against a real Herald, as written
// (only the package name is pointed at the sources), so the docs cannot drift from what the client does.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import ts from 'typescript';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HeraldClient } from '../../packages/client/src/index.js';
import { engines, type TestDatabase } from '../support/engines.js';
import { freePort } from '../support/herald-process.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { RestartableHerald } from './herald-on-port.js';
import { sendInTwoChunks } from './split-sender.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const examplesFolder = join(root, 'test/client/.doc-examples');
const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';

/** The ```ts blocks of a doc, each written to a module whose `@herald/client` imports point at the sources. */
function examplesOf(doc: string): string[] {
  const text = readFileSync(join(root, 'docs', doc), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match, index) => {
    const source = (match[1] as string)
      .replaceAll("'@herald/client/receivers'", `'${join(root, 'packages/client/src/receivers/index.ts')}'`)
      .replaceAll("'@herald/client'", `'${join(root, 'packages/client/src/index.ts')}'`);
    const file = join(examplesFolder, `${doc.replace('.md', '')}-${index}.ts`);
    writeFileSync(file, source);
    return file;
  });
}

const run = (file: string) => import(pathToFileURL(file).href) as Promise<Record<string, unknown>>;

describe('the examples of docs/client.md and docs/delivery.md, run against Herald (sqlite)', () => {
  let db: TestDatabase;
  let server: RestartableHerald;
  let client: HeraldClient;
  let receiver: Receiver;
  let client_examples: string[];
  let delivery_examples: string[];
  const printed: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'herald-doc-'));

  beforeAll(async () => {
    mkdirSync(examplesFolder, { recursive: true });
    client_examples = examplesOf('client.md');
    delivery_examples = examplesOf('delivery.md');
    db = await engines[0]!.create();
    server = await RestartableHerald.start(db, {}, true);
    receiver = await startReceiver();
    const token = await testToken();
    client = new HeraldClient({ baseUrl: server.baseUrl, token });
    process.env.HERALD_URL = server.baseUrl;
    process.env.HERALD_TOKEN = token;
    process.env.HERALD_CURSOR_FILE = join(scratch, 'orders.cursor');
    process.env.HERALD_ENDPOINT = receiver.url;
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await receiver.close();
    await server.stop();
    await db.destroy();
    rmSync(examplesFolder, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  /** Runs an example that stops on Ctrl-C, and sends it its SIGINT (to its listener only) once `ready` holds. */
  async function runUntilInterrupted(file: string, ready: () => boolean | Promise<boolean>): Promise<void> {
    const before = new Set(process.listeners('SIGINT'));
    const running = run(file);
    await expect.poll(async () => (await ready()) && process.listeners('SIGINT').some((l) => !before.has(l)), { timeout: 20_000 }).toBe(true);
    for (const listener of process.listeners('SIGINT')) {
      if (before.has(listener)) continue;
      process.off('SIGINT', listener);
      listener('SIGINT');
    }
    await running;
  }

  it('type-check as written, under the strict settings of this repository', () => {
    const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
    const program = ts.createProgram([...client_examples, ...delivery_examples], { ...config!.options, noEmit: true, allowImportingTsExtensions: true });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
  }, 60_000);

  it('the client, and publishing', async () => {
    expect((await run(client_examples[0]!)).herald).toBeInstanceOf(HeraldClient);
    await run(client_examples[1]!);
    expect(printed).toContain('published 2500 events in 3 requests');
    expect(printed.some((line) => line.startsWith('400 events:invalidEvent'))).toBe(true);
  });

  it('polling, until Ctrl-C, with the position saved in a file', async () => {
    await runUntilInterrupted(client_examples[2]!, () => printed.filter((line) => line.startsWith('polled')).length === 2501);
    expect(readFileSync(process.env.HERALD_CURSOR_FILE!, 'utf8')).toMatch(/^~\d+$/);
  });

  it('pulling, until Ctrl-C', async () => {
    let published = false;
    await runUntilInterrupted(client_examples[3]!, async () => {
      if (!published) {
        const { subscriptions } = await client.subscriptions.list();
        if (!subscriptions.some((s) => s.endPoint === undefined)) return false;
        await client.publish([sampleEvent({ id: 'pulled-1' }), sampleEvent({ id: 'pulled-2' })]);
        published = true;
      }
      return printed.filter((line) => line.startsWith('pulled')).length === 2;
    });
    expect(printed).toContain('handled 2 events');
  });

  it('subscriptions, deliveries, dead letters, replays', async () => {
    await run(client_examples[4]!);
    expect(printed.some((line) => line.startsWith('keep this secret: whsec_'))).toBe(true);
    expect(receiver.received.some((r) => r.json.type === 'herald.ping')).toBe(true);
  });

  for (const [name, index, path] of [
    ['node:http', 5, '/'],
    ['Fastify', 6, '/herald'],
    ['Express', 7, '/herald'],
  ] as const) {
    it(`the ${name} receiver verifies Herald's deliveries and a body split inside an emoji`, async () => {
      const module = await receiverRoundTrip(() => client_examples[index]!, path);
      await (module.app ? (module.app as FastifyInstance).close() : closeServer(module.server as Server));
    });
  }

  it('the framework-free core answers a Request', async () => {
    const subscription = await client.subscriptions.create({ endPoint: receiver.url, typeFilter: 'core.example', resourceFilter: resource });
    process.env.HERALD_SECRET = subscription.secret;
    const module = await run(client_examples[8]!);
    const body = JSON.stringify(sampleEvent({ id: 'core-1', data: 'blåbær 🦆' }));
    const at = new Date();
    const headers = {
      'webhook-id': 'msg_core',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new StandardWebhook(subscription.secret!).sign('msg_core', at, body),
    };
    const handle = module.handle as (request: Request) => Promise<Response>;
    expect((await handle(new Request('http://x/', { method: 'POST', body, headers }))).status).toBe(204);
    expect(printed).toContain('received core-1');
    const check = module.check as (body: Uint8Array, headers: Headers) => Promise<{ id: string }>;
    expect(await check(new TextEncoder().encode(body), new Headers(headers))).toMatchObject({ id: 'msg_core' });
  });

  it("docs/delivery.md's receiver verifies raw bytes: Herald's deliveries and a body split inside an emoji", async () => {
    const module = await receiverRoundTrip(() => delivery_examples[0]!, '/');
    await closeServer(module.server as Server);
  });

  /**
   * Subscribes an example receiver, starts it, and checks it takes Herald's handshake and a delivery of ~90 KB of
   * multi-byte text, and a hand-sent body split inside an emoji.
   */
  async function receiverRoundTrip(file: () => string, path: string): Promise<Record<string, unknown>> {
    const port = await freePort();
    const type = `receiver.example.${port}`;
    const subscription = await client.subscriptions.create({ endPoint: `http://127.0.0.1:${port}${path}`, resourceFilter: resource, typeFilter: type });
    process.env.HERALD_SECRET = subscription.secret;
    process.env.PORT = String(port);
    const module = await run(file());
    await expect.poll(async () => {
      const status = (await client.subscriptions.get(subscription.id)).status;
      if (status !== 'active') await client.subscriptions.validate(subscription.id);
      return status;
    }, { timeout: 20_000, interval: 500 }).toBe('active');
    const text = 'Blåbærsyltetøy på skjærgården 🦆🇳🇴 æøå '.repeat(2000);
    await client.publish(sampleEvent({ id: `big-${port}`, type, data: { text } }));
    await expect.poll(async () => (await client.deliveries.list(subscription.id)).deliveries[0]?.status, { timeout: 20_000 }).toBe('delivered');
    const body = Buffer.from(JSON.stringify(sampleEvent({ id: `split-${port}`, data: { text } })));
    expect(await sendInTwoChunks(`http://127.0.0.1:${port}${path}`, subscription.secret!, body, body.indexOf(Buffer.from('🦆')) + 1)).toBe(204);
    expect(printed.some((line) => line.includes(`split-${port}`))).toBe(true);
    return module;
  }
});

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
