import { createServer, type Server, type Socket, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresEngine, type TestDatabase } from '../support/engines.js';
import { assembleHerald, type HeraldUnderTest, sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

/** A TCP proxy in front of PostgreSQL that a test can cut and restore, as a network failure would. */
class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(port = 0): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Drops every connection and refuses new ones. */
  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe.skipIf(!postgresEngine.available)('PostgreSQL unreachable for a while', () => {
  let db: TestDatabase;
  let proxy: CuttableProxy;
  let herald: HeraldUnderTest;
  let authorization: string;

  beforeAll(async () => {
    db = await postgresEngine.create();
    const target = new URL(db.database);
    proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.open();
    const viaProxy = new URL(db.database);
    viaProxy.port = String(proxy.port);
    herald = await assembleHerald(await db.open({ connectionString: viaProxy.toString() }));
    authorization = `Bearer ${await testToken()}`;
  });
  afterAll(async () => {
    await herald?.close();
    await proxy?.cut().catch(() => {});
    await db?.destroy();
  });

  const publish = (id: string) =>
    herald.app.inject({
      method: 'POST',
      url: '/events/api/v1/events',
      headers: { authorization, 'content-type': 'application/cloudevents+json' },
      payload: sampleEvent({ id }),
    });

  it('fails fast with 503 (never a hang, never a false 200), turns readiness red, and recovers by itself', async () => {
    expect((await publish('before-outage')).statusCode).toBe(200);

    await proxy.cut();
    const started = Date.now();
    const during = await publish('during-outage');
    expect(during.statusCode).toBe(503);
    expect(during.headers['retry-after']).toBeDefined();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await herald.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
    const poll = await herald.app.inject({
      method: 'GET',
      url: '/events/api/v1/events?after=0&resource=urn:altinn:resource:dodsbo.domstoladmin.api',
      headers: { authorization },
    });
    expect(poll.statusCode).toBe(503);

    await proxy.open(proxy.port);
    let ready = 0;
    for (let attempt = 0; attempt < 100 && ready !== 200; attempt++) {
      ready = (await herald.app.inject({ method: 'GET', url: '/ready' })).statusCode;
      if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(ready).toBe(200);
    expect((await publish('after-outage')).statusCode).toBe(200);
    const stored = await herald.store.readEvents({ afterSeq: 0, limit: 10 });
    expect(stored.map((row) => JSON.parse(row.payload).id)).toEqual(['before-outage', 'after-outage']);
  }, 60_000);
});
