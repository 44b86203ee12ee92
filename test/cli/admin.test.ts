import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CommandError } from '../../src/cli/command-error.js';
import { type OperatorSubscription, subscriptionsCommand } from '../../src/cli/subscriptions.js';
import { loadConfig } from '../../src/config/config.js';
import type { SubscriptionRecord } from '../../src/store/records.js';
import type { Store } from '../../src/store/store.js';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { startHeraldProcess } from '../support/herald-process.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { validEvent } from '../support/test-app.js';
import { testSecret, testToken } from '../support/tokens.js';
import { isOneLineError, runHerald } from './herald-cli.js';

const orders = 'urn:altinn:resource:orders';

// Every check starts the real command as a process (about a second of start-up each, more on a busy
// machine): a ceiling for slow machines, not a timing assertion.
vi.setConfig({ testTimeout: 180_000 });

/** Waits until `check` holds: a condition, not a duration, so a slow machine only makes the test slower. */
async function eventually<T>(check: () => Promise<T | undefined | false>, what: string): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function subscribe(store: Store, consumer: string, spec: { endpoint?: string; resourceFilter?: string; sourceFilter?: string }) {
  const now = Date.now();
  const endpoint = spec.endpoint ?? null;
  return store.subscriptions
    .create({
      identity: `${consumer} ${JSON.stringify(spec)}`,
      consumer,
      createdBy: consumer,
      endpoint,
      sourceFilter: spec.sourceFilter ?? null,
      resourceFilter: spec.resourceFilter ?? null,
      subjectFilter: null,
      alternativeSubjectFilter: '01017012345',
      typeFilter: null,
      secret: 'whsec_dGVzdA==',
      status: 'active',
      nextValidationAt: null,
      validatedAt: now,
      now,
    })
    .then((r) => r.subscription);
}

describeEachEngine('herald subscriptions, on $name', (engine) => {
  let db: TestDatabase;
  let store: Store;
  let push: SubscriptionRecord;
  let pull: SubscriptionRecord;

  /** A push subscription with two deliveries due and one dead, and a pull subscription with three queued. */
  beforeEach(async () => {
    db = await engine.create();
    store = await db.open();
    push = await subscribe(store, '/org/ttd', { endpoint: 'https://hooks.example.com/orders', resourceFilter: orders });
    pull = await subscribe(store, '/org/digdir', { sourceFilter: 'https://example.com/orders' });
    await store.appendEvents(
      ['e1', 'e2', 'e3'].map((id) => validEvent({ id, resource: orders, source: 'https://example.com/orders' })),
      () => [push.id, pull.id],
    );
    const now = Date.now();
    const [first] = await store.deliveries.leaseDue('test', now, now + 60_000, 1);
    await store.deliveries.settle(first!.id, 'test', { kind: 'dead', statusCode: 500, error: 'boom' }, now);
  });
  afterEach(async () => {
    await db.destroy();
  });

  it('list shows every consumer\'s subscriptions as a table, with due and dead delivery counts', async () => {
    const { code, stdout } = await runHerald(db.database, ['subscriptions', 'list']);
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+CONSUMER\s+STATUS\s+HEALTH\s+ENDPOINT\s+FILTERS\s+CREATED\s+DUE\s+DEAD$/);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(new RegExp(`^\\s*${push.id}\\s+/org/ttd\\s+active\\s+healthy\\s+https://hooks.example.com/orders\\s+resource=${orders} alternativesubject=\\(set\\)\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:]{8}Z\\s+2\\s+1$`));
    expect(rows[1]).toMatch(new RegExp(`^\\s*${pull.id}\\s+/org/digdir\\s+active\\s+-\\s+pull\\s+source=https://example.com/orders .*\\s+3\\s+0$`));
    // The table names no personal number; the JSON, for scripts, has everything but the signing secret.
    expect(stdout).not.toContain('01017012345');
  });

  it('list --json gives scripts one document, and filters by consumer and status', async () => {
    const json = await runHerald(db.database, ['subscriptions', 'list', '--json']);
    const listed = JSON.parse(json.stdout) as { count: number; subscriptions: OperatorSubscription[] };
    expect(listed.count).toBe(2);
    expect(listed.subscriptions[0]).toMatchObject({
      id: push.id,
      consumer: '/org/ttd',
      status: 'active',
      kind: 'push',
      endPoint: 'https://hooks.example.com/orders',
      ordering: 'none',
      onDeadLetter: null,
      filters: { resource: orders, alternativeSubject: '01017012345' },
      deliveries: { due: 2, dead: 1 },
    });
    expect(listed.subscriptions[1]).toMatchObject({ id: pull.id, kind: 'pull', endPoint: null, ordering: null, deliveries: { due: 3, dead: 0 } });
    expect(json.stdout).not.toContain('whsec_');

    const mine = JSON.parse((await runHerald(db.database, ['subscriptions', 'list', '--json', '--consumer', '/org/digdir'])).stdout);
    expect(mine.subscriptions.map((s: OperatorSubscription) => s.id)).toEqual([pull.id]);
    const none = await runHerald(db.database, ['subscriptions', 'list', '--status', 'disabled']);
    expect(none.stdout.trim()).toBe('No subscriptions.');
  });

  it('redrive puts dead deliveries back in the queue and says how many', async () => {
    // Filters as the API's redrive takes them: the dead letter's last attempt was answered 500.
    const other = await runHerald(db.database, ['subscriptions', 'redrive', String(push.id), '--status-code', '503']);
    expect(other.stdout.trim()).toBe(`0 dead deliveries of subscription ${push.id} queued again.`);
    const noAnswer = await runHerald(db.database, ['subscriptions', 'redrive', String(push.id), '--error-kind', 'timeout']);
    expect(noAnswer.stdout.trim()).toBe(`0 dead deliveries of subscription ${push.id} queued again.`);
    expect(await store.deliveries.list(push.id, 'dead', 0, 10)).toHaveLength(1);
    const { code, stdout } = await runHerald(db.database, ['subscriptions', 'redrive', String(push.id), '--status-code', '500']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(`1 dead delivery of subscription ${push.id} queued again.`);
    expect(await store.deliveries.list(push.id, 'dead', 0, 10)).toEqual([]);
    const now = Date.now();
    expect(await store.deliveries.leaseDue('test-2', now, now + 60_000, 10)).toHaveLength(3);
    const again = await runHerald(db.database, ['subscriptions', 'redrive', String(push.id)]);
    expect(again.stdout.trim()).toBe(`0 dead deliveries of subscription ${push.id} queued again.`);
  });

  it('disable stops queueing and sending at once; enable makes pull active and sends push through the handshake', async () => {
    const disabled = await runHerald(db.database, ['subscriptions', 'disable', String(push.id), '--reason', 'Endpoint under review.']);
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toMatch(new RegExp(`Subscription ${push.id} disabled \\(was active\\)`));
    await runHerald(db.database, ['subscriptions', 'disable', String(pull.id)]);
    expect(await store.subscriptions.get(push.id)).toMatchObject({ status: 'disabled', lastError: 'Endpoint under review.' });

    // This store's match index still names both: the database refuses to queue or lease for them.
    const now = Date.now();
    expect(await store.deliveries.leaseDue('test', now, now + 60_000, 10)).toEqual([]);
    await store.appendEvents([validEvent({ id: 'e4', resource: orders, source: 'https://example.com/orders' })], () => [push.id, pull.id]);
    expect((await store.deliveries.list(pull.id, undefined, 0, 10)).map((d) => d.eventId)).toEqual(['e1', 'e2', 'e3']);
    const repeated = await runHerald(db.database, ['subscriptions', 'disable', String(push.id)]);
    expect(repeated.stdout.trim()).toBe(`Subscription ${push.id} was already disabled by an operator: Endpoint under review.`);

    const pullEnabled = await runHerald(db.database, ['subscriptions', 'enable', String(pull.id)]);
    expect(pullEnabled.stdout).toMatch(/is active \(pull\)/);
    expect(await store.subscriptions.get(pull.id)).toMatchObject({ status: 'active', lastError: null });

    const pushEnabled = await runHerald(db.database, ['subscriptions', 'enable', String(push.id)]);
    expect(pushEnabled.stdout).toMatch(/is pending: it becomes active once https:\/\/hooks.example.com\/orders answers/);
    const pending = await store.subscriptions.get(push.id);
    expect(pending).toMatchObject({ status: 'pending', validationAttempts: 0 });
    expect(pending?.nextValidationAt).toBeLessThanOrEqual(Date.now());
    const due = await store.subscriptions.leaseDueValidations(Date.now(), Date.now() + 60_000, 10);
    expect(due.map((v) => v.subscriptionId)).toEqual([push.id]);
  });

  it('an unknown subscription id exits 1 with one line on stderr, and changes nothing', async () => {
    for (const verb of ['disable', 'enable', 'redrive']) {
      const result = await runHerald(db.database, ['subscriptions', verb, '999999']);
      expect({ verb, code: result.code }).toEqual({ verb, code: 1 });
      expect(result.stderr).toBe('herald: No subscription with id 999999.\n');
    }
    expect(await store.subscriptions.get(push.id)).toMatchObject({ status: 'active' });
    expect(await store.deliveries.list(push.id, 'dead', 0, 10)).toHaveLength(1);
  });

  if (engine.name === 'sqlite') {
    it('refuses a SQLite path with no database rather than creating an empty one', async () => {
      const missing = `${db.database}.typo`;
      const result = await runHerald(missing, ['subscriptions', 'list']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/No Herald database at .*typo: check HERALD_DATABASE/);
    });
  }
});

describe('herald subscriptions, written wrong', () => {
  const nowhere = join(tmpdir(), 'herald-no-such-folder', 'herald.db');
  const cases: [string[], RegExp][] = [
    [['enable', 'abc'], /'abc' is not a subscription id/],
    [['redrive', '0'], /'0' is not a subscription id/],
    [['redrive', '1', '--status-code', '5xx'], /--status-code: 'statusCode' must be an HTTP status code/],
    [['redrive', '1', '--error-kind', 'gone'], /--error-kind: 'errorKind' must be one of/],
    [['redrive', '1', '--died-from', 'yesterday'], /--died-from: 'diedFrom' must be an RFC 3339 time/],
    [['redrive', '1', '--status-code', '500', '--error-kind', 'timeout'], /--error-kind: Give 'statusCode'/],
    [['disable'], /a subscription id is required/],
    [['disable', '1', '2'], /one subscription id, not 2/],
    [['disable', '1', '--reason', ''], /--reason must not be empty/],
    [['list', '--status', 'sleeping'], /--status must be one of pending, active, disabled, inactive/],
    [['list', '--bogus'], /Unknown option '--bogus'/],
    [['list', '--consumer'], /--consumer/],
    [['list', '--consumer', 'client-7'], /--consumer must be a consumer as Herald names it, .* \/sub\/client-7 .*not 'client-7'/],
    [['list', '--consumer', '/sub/a/b'], /--consumer must be a consumer as Herald names it/],
    [['list', 'extra'], /Unexpected argument 'extra'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [[], /say list, disable, enable or redrive/],
  ];

  it('every command is checked before the database is opened: a usage error (exit code 2) names what is wrong', async () => {
    // The database does not exist: reaching it would fail with "No Herald database", exit code 1.
    const config = loadConfig({ HERALD_DATABASE: nowhere, HERALD_JWT_SECRET: testSecret });
    for (const [args, message] of cases) {
      const refused = await subscriptionsCommand(config, args).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused, args.join(' ')).toBeInstanceOf(CommandError);
      expect((refused as CommandError).exitCode).toBe(2);
      expect((refused as CommandError).message).toMatch(message);
    }
  });

  it('the command exits 2 with one line on stderr', async () => {
    for (const args of [['enable', 'abc'], ['list', '--bogus'], ['frobnicate']]) {
      const result = await runHerald(nowhere, ['subscriptions', ...args]);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(isOneLineError(result.stderr), result.stderr).toBe(true);
    }
  });
});

describeEachEngine('herald subscriptions against a running herald serve, on $name', (engine) => {
  let db: TestDatabase;
  let server: { child: ChildProcess; base: string };
  let receiver: Receiver;

  beforeEach(async () => {
    db = await engine.create();
    receiver = await startReceiver();
    server = await startHeraldProcess(db.database, {
      HERALD_ALLOW_PRIVATE_ENDPOINTS: 'true',
      HERALD_PUBLISH_RATE_LIMIT: '0',
      HERALD_READ_RATE_LIMIT: '0',
    });
  });
  afterEach(async () => {
    if (server.child.exitCode === null) {
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGKILL');
      await exited;
    }
    await receiver.close();
    await db.destroy();
  });

  it('a disable from the CLI stops the server delivering; an enable delivers again after the handshake', async () => {
    const headers = { authorization: `Bearer ${await testToken()}`, 'content-type': 'application/json' };
    const api = `${server.base}/events/api/v1`;
    const created = await fetch(`${api}/subscriptions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ endPoint: receiver.url, resourceFilter: orders }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    const status = async () =>
      ((await (await fetch(`${api}/subscriptions/${id}`, { headers })).json()) as { status: string }).status;
    await eventually(async () => (await status()) === 'active', 'the handshake');
    const publish = async (eventId: string) => {
      const answer = await fetch(`${api}/events`, { method: 'POST', headers, body: validEvent({ id: eventId, resource: orders }).payload });
      expect(answer.status).toBe(200);
    };
    const deliveredIds = () => receiver.events().map((r) => r.json.id);
    await publish('before-disable');
    await eventually(async () => deliveredIds().includes('before-disable'), 'the first delivery');

    expect((await runHerald(db.database, ['subscriptions', 'disable', String(id)])).code).toBe(0);
    expect(await status()).toBe('disabled');
    await publish('while-disabled');

    const handshakes = receiver.received.length - receiver.events().length;
    expect((await runHerald(db.database, ['subscriptions', 'enable', String(id)])).code).toBe(0);
    await eventually(async () => receiver.received.length - receiver.events().length > handshakes, 'a new handshake');
    await eventually(async () => (await status()) === 'active', 'the subscription active again');
    // Probes until one arrives: proves the server matches the subscription again, without guessing how long.
    let probe = 0;
    await eventually(async () => {
      probe += 1;
      await publish(`after-enable-${probe}`);
      return deliveredIds().some((delivered) => String(delivered).startsWith('after-enable-'));
    }, 'a delivery after enable');

    expect(deliveredIds()).not.toContain('while-disabled');
    const deliveries = (await (await fetch(`${api}/subscriptions/${id}/deliveries`, { headers })).json()) as {
      deliveries: { eventId: string }[];
    };
    expect(deliveries.deliveries.map((d) => d.eventId)).not.toContain('while-disabled');
  });
});
