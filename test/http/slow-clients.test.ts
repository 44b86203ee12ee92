import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { createTokenVerifier } from '../../src/http/auth/token-verifier.js';
import { SubscriptionRegistry } from '../../src/delivery/subscription-registry.js';
import { engines, type TestDatabase } from '../support/engines.js';
import { defaultLimits } from '../support/test-app.js';
import { testSecret } from '../support/tokens.js';

describe('Slow clients (slowloris)', () => {
  let app: FastifyInstance;
  let db: TestDatabase;
  let port: number;
  beforeAll(async () => {
    db = await engines[0]!.create();
    const store = await db.open();
    const registry = new SubscriptionRegistry(store);
    app = await buildApp({
      store,
      verifier: createTokenVerifier({ key: { kind: 'secret', secret: testSecret } }),
      limits: defaultLimits,
      delivery: { registry, wake: () => {}, allowPrivateEndpoints: true },
      requestTimeoutMs: 500,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app.close();
    await db.destroy();
  });

  it('cuts off a client that trickles its request instead of holding the connection open', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /events/api/v1/events HTTP/1.1\r\nHost: x\r\n');
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('close', () => resolve(received));
      // One more header byte every 100 ms: never a complete request.
      const drip = setInterval(() => socket.writable && socket.write('X'), 100);
      socket.once('close', () => clearInterval(drip));
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('refuses headers over the size limit with 431, without reading further', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const answer = new Promise<string>((resolve) => {
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('close', () => resolve(received));
      socket.on('error', () => resolve(received));
    });
    socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(await answer).toMatch(/^HTTP\/1\.1 431/);
  });
});
