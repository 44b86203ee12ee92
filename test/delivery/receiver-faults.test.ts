import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { deliveriesOf, publish, subscribe } from './helpers.js';

describeEachEngine('Receivers that misbehave, on $name', (engine) => {
  let t: TestApp;
  let receiver: Receiver;
  beforeEach(async () => {
    t = await createTestApp(engine, undefined, { schedule: [1_000], timeoutMs: 300 });
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await t?.close();
    await receiver?.close();
  });

  /** Subscribes (the handshake succeeds), then makes the receiver misbehave for one event. */
  async function deliverOnceTo(behaviour: Parameters<Receiver['behave']>[0]) {
    const subscription = await subscribe(t, receiver.url);
    receiver.behave(behaviour);
    await publish(t, 'fault-1');
    await t.dispatcher.runOnce();
    const [delivery] = await deliveriesOf(t, subscription.id);
    return delivery!;
  }

  it('gives up on a receiver that never answers after the timeout, and retries later', async () => {
    const delivery = await deliverOnceTo(() => 'handled');
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1, lastError: 'No answer within 300 ms.' });
    expect(delivery).not.toHaveProperty('lastStatusCode');
  });

  it('records a connection reset as a failed attempt', async () => {
    const delivery = await deliverOnceTo((_request, response) => {
      response.socket?.destroy();
      return 'handled';
    });
    expect(delivery).toMatchObject({ status: 'failed', lastError: 'The connection was closed before an answer came.' });
  });

  it('does not follow redirects: a 3xx is a failed attempt that says why', async () => {
    const delivery = await deliverOnceTo(() => ({ status: 301, headers: { location: `${receiver.url}/elsewhere` } }));
    expect(delivery).toMatchObject({ status: 'failed', lastStatusCode: 301 });
    expect(String(delivery.lastError)).toMatch(/redirects are not followed/);
    expect(receiver.events()).toHaveLength(1);
  });

  it('treats 4xx other than 410 as a failure to retry, as Altinn does', async () => {
    const delivery = await deliverOnceTo(() => ({ status: 400 }));
    expect(delivery).toMatchObject({ status: 'failed', lastStatusCode: 400 });
  });

  it('reads only a few KiB of a huge answer and settles the attempt without waiting for the rest', async () => {
    const delivery = await deliverOnceTo((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      // 64 MiB offered; Herald must not read it all (it would also blow the 300 ms timeout).
      let sent = 0;
      const push = () => {
        while (sent < 1024 && response.write(chunk)) sent++;
        if (sent < 1024) response.once('drain', push);
        else response.end();
      };
      push();
      return 'handled';
    });
    expect(delivery).toMatchObject({ status: 'delivered', lastStatusCode: 200 });
  });

  it('does not wait on an answer that trickles in: the attempt ends at the timeout, decided by its status line', async () => {
    // Without a limit on the whole attempt this test never ends: undici's own timeouts only bound the gaps.
    let trickle: NodeJS.Timeout | undefined;
    const delivery = await deliverOnceTo((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      // A byte every 20 ms, for ever: each arrives well within any gap timeout.
      trickle = setInterval(() => response.write('x'), 20);
      response.once('close', () => clearInterval(trickle));
      return 'handled';
    });
    clearInterval(trickle);
    expect(delivery).toMatchObject({ status: 'delivered', lastStatusCode: 200 });
  });

  it('records a host name that does not resolve as a failed attempt', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: t.auth,
      payload: { endPoint: 'http://herald-no-such-host.invalid/hook', resourceFilter: 'urn:altinn:resource:delivery.test' },
    });
    expect(created.statusCode).toBe(201);
    await t.dispatcher.runOnce();
    const shown = await t.app.inject({ method: 'GET', url: `/events/api/v1/subscriptions/${created.json().id}`, headers: t.auth });
    expect(shown.json()).toMatchObject({ status: 'pending', validated: false });
    expect(shown.json().lastError).toMatch(/host name could not be resolved/);
  });
});
