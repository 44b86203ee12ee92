import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine, postgresEngine, type TestDatabase } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { assembleHerald, type HeraldUnderTest } from '../support/test-app.js';
import { deliveriesOf, publish, subscribe } from './helpers.js';

describeEachEngine('Restarts and takeovers on $name', (engine) => {
  let db: TestDatabase;
  let receiver: Receiver;
  const heralds: HeraldUnderTest[] = [];
  const start = async () => {
    const herald = await assembleHerald(await db.open(), { schedule: [1_000, 2_000], timeoutMs: 500 });
    heralds.push(herald);
    return herald;
  };
  beforeEach(async () => {
    db = await engine.create();
    receiver = await startReceiver();
  });
  afterEach(async () => {
    for (const herald of heralds.splice(0)) await herald.close();
    await receiver.close();
    await db.destroy();
  });

  it('a restart in the middle of the retry ladder forgets nothing: the next process continues it', async () => {
    const first = await start();
    const subscription = await subscribe(first, receiver.url);
    receiver.behave(() => ({ status: 500 }));
    await publish(first, 'restart-1');
    await first.dispatcher.runOnce();
    await first.close();
    await first.store.close();

    receiver.behave(() => ({ status: 200 }));
    const second = await start();
    second.clock.advance(1_100);
    await second.dispatcher.runOnce();
    expect(await deliveriesOf(second, subscription.id)).toMatchObject([{ eventId: 'restart-1', status: 'delivered', attempts: 2 }]);
  });

  it('a delivery leased by a process that died is taken over once its lease expires', async () => {
    const survivor = await start();
    const subscription = await subscribe(survivor, receiver.url);
    await publish(survivor, 'orphan-1');
    // A process leases the delivery and dies before sending it.
    const now = survivor.clock.now();
    const leased = await survivor.store.deliveries.leaseDue('crashed-process', now, now + 30_500, 10);
    expect(leased).toHaveLength(1);

    expect(await survivor.dispatcher.runOnce()).toBe(0); // still leased: not sent twice
    survivor.clock.advance(31_000);
    await survivor.dispatcher.runOnce();
    expect(receiver.events().map((r) => r.json.id)).toEqual(['orphan-1']);
    expect(await deliveriesOf(survivor, subscription.id)).toMatchObject([{ status: 'delivered', attempts: 1 }]);
    // The dead process's late report cannot overwrite the outcome.
    expect(await survivor.store.deliveries.settle(leased[0]!.id, 'crashed-process', { kind: 'dead', statusCode: null, error: 'late' }, now)).toBe(false);
  });

  it.skipIf(engine.name !== postgresEngine.name)(
    'two processes sharing PostgreSQL split the work: every delivery is sent exactly once',
    async () => {
      const a = await start();
      const b = await start();
      await subscribe(a, receiver.url);
      await b.registry.reload();
      const ids = Array.from({ length: 60 }, (_, i) => `shared-${i}`);
      await publish(a, ...ids.slice(0, 30));
      await publish(b, ...ids.slice(30));
      let sent = 1;
      while (sent > 0) sent = (await Promise.all([a.dispatcher.runOnce(), b.dispatcher.runOnce()])).reduce((x, y) => x + y);
      const received = receiver.events().map((r) => r.json.id as string);
      expect(received.sort()).toEqual([...ids].sort());
    },
  );
});
