import type { ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { startHeraldProcess } from '../support/herald-process.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

describeEachEngine('SIGTERM with a delivery in flight, on $name', (engine) => {
  let db: TestDatabase;
  let receiver: Server;
  let receiverUrl: string;
  const events: string[] = [];
  let arrived: () => void = () => {};
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    db = await engine.create();
    events.length = 0;
    receiver = createHttpServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const event = JSON.parse(body) as { id: string; type: string };
        if (event.type === 'platform.events.validatesubscription') return response.writeHead(200).end();
        events.push(event.id);
        arrived();
        setTimeout(() => response.writeHead(200).end(), 1_000); // a slow receiver: the attempt is in flight
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
    await db.destroy();
  });

  it('finishes the attempt in flight and records it before exiting 0; a restart does not send it again', async () => {
    const first = await startHeraldProcess(db.database, { HERALD_ALLOW_PRIVATE_ENDPOINTS: 'true' });
    children.push(first.child);
    const headers = { authorization: `Bearer ${await testToken()}`, 'content-type': 'application/json' };
    const created = await fetch(`${first.base}/events/api/v1/subscriptions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ endPoint: receiverUrl, resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api' }),
    });
    const { id } = (await created.json()) as { id: number };
    for (let i = 0; i < 100; i++) {
      const shown = (await (await fetch(`${first.base}/events/api/v1/subscriptions/${id}`, { headers })).json()) as { status: string };
      if (shown.status === 'active') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const inFlight = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const published = await fetch(`${first.base}/events/api/v1/events`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(sampleEvent({ id: 'in-flight' })),
    });
    expect(published.status).toBe(200);
    await inFlight;
    const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)));
    first.child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const second = await startHeraldProcess(db.database, { HERALD_ALLOW_PRIVATE_ENDPOINTS: 'true' });
    children.push(second.child);
    const listing = (await (await fetch(`${second.base}/events/api/v1/subscriptions/${id}/deliveries`, { headers })).json()) as {
      deliveries: { eventId: string; status: string }[];
    };
    expect(listing.deliveries).toMatchObject([{ eventId: 'in-flight', status: 'delivered' }]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(events).toEqual(['in-flight']);
  }, 60_000);
});
