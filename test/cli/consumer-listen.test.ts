// `herald listen` as a user runs it on a laptop: its own process, receiving real signed deliveries from a
// Herald on loopback (private endpoints allowed, as HERALD_ALLOW_PRIVATE_ENDPOINTS does), on both engines.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { HeraldClient } from '../../packages/client/src/index.js';
import { RestartableHerald } from '../client/herald-on-port.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { consumerEnv, finished, ndjson, spawnConsumer } from './consumer-cli.js';

const resource = 'urn:altinn:resource:dodsbo.domstoladmin.api';

/** Standard Webhooks headers for `body`, signed with `secret`. */
function signed(body: string, secret: string, id = 'msg_forged'): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'content-type': 'application/cloudevents+json', 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}

describeEachEngine('herald listen receiving from a real Herald', (engine) => {
  let db: TestDatabase;
  let server: RestartableHerald;
  let dir: string;

  beforeEach(async () => {
    db = await engine.create();
    server = await RestartableHerald.start(db, { timeoutMs: 10_000, allowPrivateEndpoints: true }, true);
    dir = mkdtempSync(join(tmpdir(), 'herald-listen-'));
  });

  afterEach(async () => {
    await server.stop();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints its URL, answers the handshake once it has the secret, prints a signed delivery, and refuses forged and unsigned ones', async () => {
    const token = await testToken();
    const client = new HeraldClient({ baseUrl: server.baseUrl, token });
    const secretFile = join(dir, 'secret');
    const listener = spawnConsumer(['listen', '--port', '0', '--secret-file', secretFile], consumerEnv(server.baseUrl, token));
    const run = finished(listener);
    let stdout = '';
    let stderr = '';
    listener.stdout?.on('data', (text: string) => (stdout += text));
    listener.stderr?.on('data', (text: string) => (stderr += text));
    await expect.poll(() => stderr, { timeout: 15_000 }).toMatch(/receiving on http:\/\/127\.0\.0\.1:\d+\//);
    const url = /receiving on (\S+)/.exec(stderr)![1]!;

    // The secret exists once the subscription does: the first handshake is refused, the one after the file is written passes.
    const subscription = await client.subscriptions.create({ endPoint: url, resourceFilter: resource });
    writeFileSync(secretFile, `${subscription.secret}\n`);
    await client.subscriptions.validate(subscription.id);
    await expect.poll(async () => (await client.subscriptions.get(subscription.id)).status, { timeout: 15_000 }).toBe('active');
    expect(stderr).toContain('answered the validation handshake');

    await client.publish(sampleEvent({ id: 'delivered-1', data: { text: 'blåbær 🦆' } }));
    await expect.poll(() => ndjson(stdout).length, { timeout: 15_000 }).toBe(1);
    const [line] = ndjson(stdout);
    expect(line).toMatchObject({ webhookId: expect.any(String), timestamp: expect.any(Number), event: { id: 'delivered-1', data: { text: 'blåbær 🦆' } } });

    const body = JSON.stringify(sampleEvent({ id: 'forged' }));
    const forged = await fetch(url, { method: 'POST', body, headers: signed(body, 'whsec_' + Buffer.from('not the secret').toString('base64')) });
    expect(forged.status).toBe(401);
    const unsigned = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/cloudevents+json' } });
    expect(unsigned.status).toBe(401);
    const genuine = await fetch(url, { method: 'POST', body, headers: signed(body, subscription.secret!) });
    expect(genuine.status).toBe(204);

    listener.kill('SIGINT');
    const stopped = await run;
    expect(stopped.code).toBe(0);
    expect(ndjson(stopped.stdout).map((l) => (l.event as { id: string }).id)).toEqual(['delivered-1', 'forged']);
    expect(stopped.stderr).toContain('refused a request');
  });
});
