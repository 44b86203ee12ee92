import { afterEach, beforeEach, expect, it } from 'vitest';
import { dispatchLimits } from '../../src/delivery/dispatcher.js';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { deliveriesOf, eventually, publish, subscribe } from './helpers.js';

describeEachEngine('Endpoint isolation on $name', (engine) => {
  let t: TestApp;
  let hanging: Receiver;
  let healthy: Receiver;
  beforeEach(async () => {
    t = await createTestApp(engine, undefined, { timeoutMs: 20_000 });
    hanging = await startReceiver();
    healthy = await startReceiver();
  });
  afterEach(async () => {
    // Closing the receivers first ends the hanging attempts, so the dispatcher stops promptly.
    await hanging?.close();
    await healthy?.close();
    await t?.close();
  });

  it('a hanging endpoint does not delay deliveries to a healthy one', async () => {
    await subscribe(t, hanging.url);
    const good = await subscribe(t, healthy.url);
    hanging.behave(() => 'handled'); // accepts the connection, never answers
    t.dispatcher.start();
    const ids = Array.from({ length: 3 * dispatchLimits.maxPerSubscription }, (_, i) => `iso-${i}`);
    await publish(t, ...ids);

    await eventually(() => healthy.events().length === ids.length);
    // Attempts run concurrently, so arrival order may differ (delivery order is not promised).
    expect(healthy.events().map((r) => r.json.id).sort()).toEqual([...ids].sort());
    // The hanging endpoint holds only its own share of attempts, never the healthy one's.
    expect(hanging.events().length).toBeLessThanOrEqual(dispatchLimits.maxPerSubscription);
    // Outcomes are recorded just after the receiver answers.
    await eventually(async () => (await deliveriesOf(t, good.id, 'delivered')).length === ids.length);
  });
});
