import { afterEach, beforeEach, expect, it } from 'vitest';
import { eventually } from '../delivery/helpers.js';
import { describeEachEngine, postgresEngine, type TestDatabase } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { assembleHerald, type HeraldUnderTest, sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

const resource = 'urn:altinn:resource:budgets.test';

/**
 * Budgets hold across the whole deployment: what a consumer's hanging endpoints take of the handshakes and the
 * delivery slots, whichever process and however many.
 */
describeEachEngine('Shared budgets on $name', (engine) => {
  let db: TestDatabase;
  const heralds: HeraldUnderTest[] = [];
  const receivers: Receiver[] = [];
  /** Requests a hanging receiver holds open right now (they are never answered). */
  let open = 0;
  let mostOpen = 0;
  const hangingReceiver = async (answerHandshakes: boolean) => {
    const receiver = await startReceiver((request, response) => {
      if (answerHandshakes && request.json.type === 'platform.events.validatesubscription') return { status: 200 };
      open++;
      mostOpen = Math.max(mostOpen, open);
      response.on('close', () => open--);
      return 'handled';
    });
    receivers.push(receiver);
    return receiver;
  };
  const start = async (budgets: Record<string, number> = {}) => {
    const herald = await assembleHerald(await db.open(), { timeoutMs: 30_000, dispatcher: { budgets } });
    heralds.push(herald);
    return herald;
  };
  const subscribe = async (herald: HeraldUnderTest, org: string, endPoint: string) => {
    const created = await herald.app.inject({
      method: 'POST',
      url: '/events/api/v1/subscriptions',
      headers: { authorization: `Bearer ${await testToken({ claims: { org } })}` },
      payload: { endPoint, resourceFilter: resource },
    });
    expect(created.statusCode, created.body).toBe(201);
    return (created.json() as { id: number }).id;
  };
  const statusOf = async (herald: HeraldUnderTest, id: number) => (await herald.store.subscriptions.get(id))?.status;

  beforeEach(async () => {
    db = await engine.create();
    open = 0;
    mostOpen = 0;
  });
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.close();
    for (const herald of heralds.splice(0)) await herald.close();
    await db.destroy();
  });

  it("a consumer whose endpoints hang on the handshake holds two handshakes at once, and another's validates meanwhile", async () => {
    const herald = await start();
    herald.dispatcher.start();
    for (let i = 0; i < 12; i++) await subscribe(herald, 'alpha', (await hangingReceiver(false)).url);
    await eventually(() => open >= 2);
    const healthy = await startReceiver();
    receivers.push(healthy);
    const beta = await subscribe(herald, 'beta', healthy.url);
    await eventually(async () => (await statusOf(herald, beta)) === 'active', 3_000);
    expect(mostOpen).toBe(2);
  });

  it.skipIf(engine.name !== postgresEngine.name)(
    "one consumer's hanging endpoints hold its budget across all processes, not a budget in each",
    async () => {
      const budgets = { perConsumer: 3 };
      const first = await start(budgets);
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push(await subscribe(first, 'alpha', (await hangingReceiver(true)).url));
      // Handshakes answered, two of the consumer's at a time: every subscription is active before deliveries start.
      await first.dispatcher.runOnce();
      await first.dispatcher.runOnce();
      for (const id of ids) expect(await statusOf(first, id)).toBe('active');
      const published = await first.app.inject({
        method: 'POST',
        url: '/events/api/v1/events',
        headers: { authorization: `Bearer ${await testToken()}`, 'content-type': 'application/cloudevents-batch+json' },
        payload: JSON.stringify(Array.from({ length: 20 }, (_, i) => sampleEvent({ id: `budget-${i}`, resource }))),
      });
      expect(published.statusCode, published.body).toBe(200);

      first.dispatcher.start();
      // In flight: the budget (3); held, with the round leased ahead: twice that, across every process.
      await eventually(() => open === 3);
      // Processes tell each other what they hold four times a second: a process started later hears it.
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (let i = 0; i < 2; i++) {
        const other = await start(budgets);
        other.dispatcher.start();
        other.dispatcher.wake();
      }
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      // Three processes with a budget each would hold 9 open; the shared budget holds what one would.
      expect(mostOpen).toBeLessThanOrEqual(6);
      const leased = await first.store.deliveries.countLeased(first.clock.now());
      expect([...leased.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(6);
    },
  );
});
