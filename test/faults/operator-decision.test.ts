import { afterEach, beforeEach, expect, it } from 'vitest';
import { type OperatorSubscription, subscriptionsCommand } from '../../src/cli/subscriptions.js';
import { loadConfig } from '../../src/config/config.js';
import { publish, resource, subscribe } from '../delivery/helpers.js';
import { expectProblem } from '../http/harness.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testSecret } from '../support/tokens.js';
import { rawSql } from '../store/retention-harness.js';
import { migrateToBefore } from './older-schema.js';

const subscriptionsPath = '/events/api/v1/subscriptions';

describeEachEngine("An operator's disable holds against the subscription's owner, on $name", (engine) => {
  let t: TestApp;
  let receiver: Receiver;
  /** `herald subscriptions …` as an operator runs it, on the same database, through its own store. */
  const operator = (...argv: string[]) =>
    subscriptionsCommand(loadConfig({ HERALD_DATABASE: t.db.database, HERALD_JWT_SECRET: testSecret }), argv);
  const owner = (method: 'GET' | 'POST' | 'DELETE', path: string, payload?: object) =>
    t.app.inject({ method, url: `${subscriptionsPath}${path}`, headers: t.auth, ...(payload ? { payload } : {}) });
  /** Lets the dispatcher run whatever is due, a few seconds on. */
  const timePasses = async () => {
    for (let round = 0; round < 3; round++) {
      t.clock.advance(1_000);
      await t.dispatcher.runOnce();
    }
  };

  beforeEach(async () => {
    t = await createTestApp(engine, undefined, { schedule: [1_000, 2_000] });
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await t.close();
    await receiver.close();
  });

  it("the owner's validate, redrive, delete and identical re-create get a 409 naming the operator's reason; only enable brings it back", async () => {
    const subscription = await subscribe(t, receiver.url);
    expect(subscription.status).toBe('active');
    // A dead letter for the owner to try to redrive.
    receiver.behave(() => ({ status: 500 }));
    await publish(t, 'dead-1');
    await timePasses();
    await timePasses();
    receiver.behave(() => ({ status: 200 }));

    expect(await operator('disable', String(subscription.id), '--reason', 'abuse')).toMatch(/disabled \(was active\)/);
    const [dead] = (await owner('GET', `/${subscription.id}/deliveries`)).json().deliveries;

    const refusals = [
      await owner('POST', `/${subscription.id}/validate`),
      await owner('POST', `/${subscription.id}/deliveries/redrive`),
      await owner('POST', `/${subscription.id}/deliveries/${dead.id}/resend`),
      await owner('POST', `/${subscription.id}/ping`),
      await owner('DELETE', `/${subscription.id}`),
      await owner('POST', '', { endPoint: receiver.url, resourceFilter: resource }),
    ];
    for (const refused of refusals) {
      const problem = expectProblem(refused, 409, 'events:disabledByOperator');
      expect(problem.detail).toContain('abuse');
      expect(problem.detail).toContain(String(subscription.id));
    }
    await timePasses();

    const shown = (await owner('GET', `/${subscription.id}`)).json();
    expect(shown).toMatchObject({ status: 'disabled', disabledBy: 'operator', lastError: 'abuse' });
    const listed = await operator('list', '--json');
    const [row] = (JSON.parse(listed) as { subscriptions: OperatorSubscription[] }).subscriptions;
    expect(row).toMatchObject({ id: subscription.id, status: 'disabled', disabledBy: 'operator', lastError: 'abuse', deliveries: { dead: 1 } });

    // The operator's enable is the way back: the handshake runs, and the owner has its say again.
    await operator('enable', String(subscription.id));
    await timePasses();
    const enabled = (await owner('GET', `/${subscription.id}`)).json();
    expect(enabled).toMatchObject({ status: 'active' });
    expect(enabled.disabledBy).toBeUndefined();
    expect((await owner('POST', `/${subscription.id}/validate`)).statusCode).toBe(202);
    expect((await owner('POST', `/${subscription.id}/deliveries/redrive`)).json()).toEqual({ redriven: 1 });
  });

  it('a handshake or a 410 that was under way when the operator disabled it changes nothing', async () => {
    const subscription = await subscribe(t, receiver.url);
    expect((await owner('POST', `/${subscription.id}/validate`)).statusCode).toBe(202);
    const now = t.clock.now();
    const [leased] = await t.store.subscriptions.leaseDueValidations(now, now + 60_000, 10);
    expect(leased?.subscriptionId).toBe(subscription.id);

    await operator('disable', String(subscription.id), '--reason', 'abuse');
    // The endpoint answers both after the operator's decision.
    await t.store.subscriptions.recordValidation(subscription.id, { ok: true, at: now });
    await t.store.subscriptions.setStatus(subscription.id, 'disabled', 'The endpoint answered 410 Gone.');
    await timePasses();
    expect((await owner('GET', `/${subscription.id}`)).json()).toMatchObject({
      status: 'disabled',
      disabledBy: 'operator',
      lastError: 'abuse',
    });
  });

  it("an endpoint's 410 Gone is the owner's to fix by validating again, until an operator disables it too", async () => {
    const subscription = await subscribe(t, receiver.url);
    receiver.behave(() => ({ status: 410 }));
    await publish(t, 'gone-1');
    await t.dispatcher.runOnce();
    expect((await owner('GET', `/${subscription.id}`)).json()).toMatchObject({ status: 'disabled', disabledBy: 'endpoint' });

    receiver.behave(() => ({ status: 200 }));
    expect((await owner('POST', `/${subscription.id}/validate`)).statusCode).toBe(202);
    await timePasses();
    expect((await owner('GET', `/${subscription.id}`)).json()).toMatchObject({ status: 'active' });

    receiver.behave(() => ({ status: 410 }));
    await publish(t, 'gone-2');
    await t.dispatcher.runOnce();
    expect(await operator('disable', String(subscription.id), '--reason', 'keeps answering 410')).toMatch(/disabled/);
    expectProblem(await owner('POST', `/${subscription.id}/validate`), 409, 'events:disabledByOperator');
    expect((await owner('GET', `/${subscription.id}`)).json()).toMatchObject({
      disabledBy: 'operator',
      lastError: 'keeps answering 410',
    });
  });
});

describeEachEngine('Subscriptions disabled before Herald recorded who disabled them, on $name', (engine) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await engine.create();
  });
  afterEach(async () => {
    await db.destroy();
  });

  it("count as their endpoint's when a 410 disabled them, and as an operator's otherwise", async () => {
    await migrateToBefore(engine, db, '_operator_decisions');
    const disabled = [
      ['gone', 'The endpoint answered 410 Gone.'],
      ['gone-at-handshake', 'Validation failed: The endpoint answered 410 Gone: the subscription is disabled.'],
      ['operator', 'abuse'],
    ];
    for (const [identity, lastError] of disabled) {
      await rawSql(
        engine,
        db.database,
        `INSERT INTO subscriptions (identity, consumer, created_by, endpoint, resource_filter, secret, status, created_at, last_error)
         VALUES ($1, '/org/ttd', '/org/ttd', 'https://example.com/hook', $2, 'whsec_x', 'disabled', $3, $4)`,
        [identity, resource, Date.now(), lastError],
      );
    }
    const store = await db.open();
    const found = (await store.subscriptions.listBy({})).map((s) => [s.lastError, s.disabledBy]);
    expect(found).toEqual([
      [disabled[0]![1], 'endpoint'],
      [disabled[1]![1], 'endpoint'],
      ['abuse', 'operator'],
    ]);
  });
});
