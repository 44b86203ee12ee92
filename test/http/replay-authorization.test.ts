import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { expectNoLeak, grant, type PolicedHerald, policedHerald, resource, secretEvent } from './authorization-harness.js';
import { expectProblem } from './harness.js';
import { drainReplays, replayClient } from './replay-harness.js';

describeEachEngine('Replay under an authorization policy on $name', (engine) => {
  let h: PolicedHerald;
  let receiver: Receiver;
  let client: ReturnType<typeof replayClient>;
  beforeEach(async () => {
    h = await policedHerald(engine);
    receiver = await startReceiver();
    client = replayClient(h.t, h.t.auth);
  });
  afterEach(async () => {
    await h?.close();
    await receiver?.close();
  });

  /** /org/ttd may subscribe to the resource, and read only its events about /party/1. */
  const partyOneOnly = () => ({ grants: [grant({ actions: ['subscribe', 'read'], subjects: ['/party/1'] })] });

  async function subscribed(): Promise<{ id: number; secret: string }> {
    const created = await h.subscribe({ endPoint: receiver.url, resourceFilter: resource });
    expect(created.statusCode, created.body).toBe(201);
    await h.t.dispatcher.runOnce();
    return created.json();
  }

  it('counts and sends only the events the owner may read now, and names none it may not', async () => {
    h.policy = partyOneOnly();
    const subscription = await subscribed();
    const one = secretEvent({ subject: '/party/1' });
    const two = secretEvent({ subject: '/party/2' });
    const three = secretEvent({ subject: '/party/1' });
    await h.publishAsAdmin(one, two, three);
    await h.t.dispatcher.runOnce();
    const live = receiver.events().length;
    expect(live).toBe(2);

    expect(await client.count(subscription.id, { after: '0' })).toBe(2);
    await client.start(subscription.id, { after: '0' });
    await drainReplays(h.t);
    await h.t.dispatcher.runOnce();
    const replayed = receiver.events().slice(live);
    const webhook = new Webhook(subscription.secret);
    expect(replayed.map((r) => (webhook.verify(r.body, r.headers as Record<string, string>) as { id: string }).id).sort()).toEqual(
      [one.event.id, three.event.id].sort(),
    );

    // An `after` naming an event the owner may not read is unknown, exactly like one that never existed.
    const refused = await client.replay(subscription.id, { after: two.event.id, dryRun: true });
    expectProblem(refused, 400, 'events:unknownCursor');
    expectNoLeak(refused, two);
  });

  it('counts every event of the resource where a grant reads it whole, and only the granted resource', async () => {
    h.policy = { grants: [grant({ actions: ['subscribe', 'read'] })] };
    const subscription = await subscribed();
    await h.publishAsAdmin(secretEvent({ subject: '/party/1' }), secretEvent({ subject: '/party/2' }), secretEvent({ subject: '/party/3' }));
    await h.t.dispatcher.runOnce();
    expect(await client.count(subscription.id, { after: '0' })).toBe(3);
    // Grants to others, or with subject limits, read less: each event is looked at.
    h.policy = { grants: [grant({ actions: ['subscribe'] }), grant({ consumer: '/org/other' }), grant({ subjects: ['/party/3'] })] };
    expect(await client.count(subscription.id, { after: '0' })).toBe(1);
  });

  it('decides what the owner may read when each piece is enqueued: a grant revoked after the request sends nothing more', async () => {
    h.policy = partyOneOnly();
    const subscription = await subscribed();
    await h.publishAsAdmin(secretEvent({ subject: '/party/1' }), secretEvent({ subject: '/party/1' }));
    await h.t.dispatcher.runOnce();
    const replay = await client.start(subscription.id, { after: '0' });
    expect(replay.events).toBe(2);

    h.policy = { grants: [grant({ actions: ['subscribe'] })] };
    await drainReplays(h.t);
    expect((await client.get(subscription.id, replay.id)).json()).toMatchObject({ status: 'completed', events: 2, enqueued: 0 });
    expect(await client.count(subscription.id, { after: '0' })).toBe(0);
  });
});
