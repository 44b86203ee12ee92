import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { deliveriesOf, publish, subscribe } from '../delivery/helpers.js';
import { describeEachEngine } from '../support/engines.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

describeEachEngine('A receiver down for a while, on $name', (engine) => {
  let t: TestApp;
  let server: Server | undefined;
  const received: string[] = [];
  let port = 0;
  const listen = async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const event = JSON.parse(body) as { id: string; type: string };
        if (event.type !== 'platform.events.validatesubscription') received.push(event.id);
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    port = (server?.address() as { port: number }).port;
  };
  const shutDown = async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  };

  beforeEach(async () => {
    t = await createTestApp(engine, undefined, { schedule: [1_000, 2_000, 4_000, 8_000], timeoutMs: 500 });
    received.length = 0;
    port = 0;
    await listen();
  });
  afterEach(async () => {
    await t?.close();
    await shutDown().catch(() => {});
  });

  it('gets every event once it is back: nothing published meanwhile is lost', async () => {
    const subscription = await subscribe(t, `http://127.0.0.1:${port}/hook`);
    await shutDown(); // the receiver goes away
    const ids = Array.from({ length: 20 }, (_, i) => `outage-${i}`);
    await publish(t, ...ids);
    for (const wait of [0, 1_100, 2_200]) {
      t.clock.advance(wait);
      await t.dispatcher.runOnce();
    }
    const failing = await deliveriesOf(t, subscription.id, 'failed');
    expect(failing).toHaveLength(ids.length);
    expect(String(failing[0]?.lastError)).toMatch(/refused the connection/);

    await listen(); // back, on the same address
    // Twenty failures in a row suspended the endpoint (docs/isolation.md): its deliveries wait for a probe, due
    // 15 s after the suspension. The probe's 2xx resumes it, and the rest go out in the next round.
    t.clock.advance(15_000);
    await t.dispatcher.runOnce();
    expect(received).toHaveLength(1);
    await t.dispatcher.runOnce();
    expect([...received].sort()).toEqual([...ids].sort());
    expect(await deliveriesOf(t, subscription.id, 'delivered')).toHaveLength(ids.length);
  });
});
