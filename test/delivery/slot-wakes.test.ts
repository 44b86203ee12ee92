import { afterEach, expect, it } from 'vitest';
import type { DeliveryBudgets } from '../../src/domain/delivery-budgets.js';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { eventually, publish, subscribe } from './helpers.js';

/**
 * What a budget held back goes out as slots free, woken by the attempts that end: never left for the idle timer
 * (a minute here, so relying on it fails the test), however late the outcomes are written.
 */
describeEachEngine('Deliveries a budget held back, on $name', (engine) => {
  let t: TestApp | undefined;
  const receivers: Receiver[] = [];
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.close();
    await t?.close();
  });

  async function start(budgets: Partial<DeliveryBudgets>, endpoints: number) {
    t = await createTestApp(engine, undefined, { dispatcher: { budgets, idleWaitMs: 60_000 } });
    for (let i = 0; i < endpoints; i++) {
      const receiver = await startReceiver();
      receivers.push(receiver);
      await subscribe(t, receiver.url);
    }
    // Outcomes written well after the attempts end, as on a busy database.
    const settleMany = t.store.deliveries.settleMany.bind(t.store.deliveries);
    t.store.deliveries.settleMany = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return settleMany(...args);
    };
    return t;
  }

  const delivered = () => receivers.reduce((sum, receiver) => sum + receiver.events().length, 0);

  it("by a subscription's slots", async () => {
    const h = await start({ perSubscription: 1 }, 1);
    await publish(h, ...Array.from({ length: 12 }, (_, i) => `queued-${i}`));
    h.dispatcher.start();
    await publish(h, ...Array.from({ length: 12 }, (_, i) => `live-${i}`));
    await eventually(() => delivered() === 24, 10_000);
    expect(receivers[0]!.events()).toHaveLength(24);
  });

  it("by a consumer's budget", async () => {
    const h = await start({ perConsumer: 2 }, 3);
    await publish(h, ...Array.from({ length: 8 }, (_, i) => `queued-${i}`));
    h.dispatcher.start();
    await publish(h, ...Array.from({ length: 8 }, (_, i) => `live-${i}`));
    // Every event to each of the consumer's three endpoints.
    await eventually(() => delivered() === 48, 10_000);
  });
});
