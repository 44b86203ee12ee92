import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postgresEngine, type TestDatabase } from '../support/engines.js';
import { startHeraldProcess } from '../support/herald-process.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { eventually, resource } from './helpers.js';
import { type KeyedArrivals, keyedReceiver } from './ordering-harness.js';
import { rawSql } from '../store/retention-harness.js';

const subscriptionsPath = '/events/api/v1/subscriptions';
const subjectKey = (event: Record<string, unknown>) =>
  typeof event.subject === 'string' ? event.subject.replace('/party/', '') : undefined;

/** How many delivery attempts a process made, from its own /metrics. */
async function attemptsMadeBy(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('herald_deliveries_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('Ordered delivery with two Herald processes on one PostgreSQL', () => {
  let db: TestDatabase;
  let receiver: Receiver;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    if (!postgresEngine.available) return;
    db = await postgresEngine.create();
    receiver = await startReceiver();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await receiver?.close();
    await db?.destroy();
  });

  it.skipIf(!postgresEngine.available)(
    "holds each key to one delivery at a time, in log order, across both processes, while one key's endpoint fails and the others flow",
    async () => {
      const env = {
        HERALD_ALLOW_PRIVATE_ENDPOINTS: 'true',
        HERALD_RETRY_SCHEDULE: '1s,1s,1s,1s,1s,1s,1s,1s',
        HERALD_DELIVERY_TIMEOUT: '5s',
        HERALD_PUBLISH_RATE_LIMIT: '0',
        HERALD_READ_RATE_LIMIT: '0',
      };
      // The first migrates; the second starts on the migrated database.
      const first = await startHeraldProcess(db.database, env);
      children.push(first.child);
      const second = await startHeraldProcess(db.database, env);
      children.push(second.child);
      const processes = [first.base, second.base];
      const auth = { authorization: `Bearer ${await testToken()}` };

      let keyAFails = true;
      const { behaviour, arrivals } = keyedReceiver(subjectKey, { holdMs: 15, fails: (event) => keyAFails && subjectKey(event) === 'a' });
      receiver.behave(behaviour);
      const created = await fetch(`${first.base}${subscriptionsPath}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ endPoint: receiver.url, resourceFilter: resource, ordering: 'subject' }),
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: number };
      await eventually(async () => {
        const shown = await fetch(`${second.base}${subscriptionsPath}/${id}`, { headers: auth });
        return ((await shown.json()) as { status: string }).status === 'active';
      }, 15_000);

      const publish = async (base: string, events: Record<string, unknown>[]) => {
        const response = await fetch(`${base}/events/api/v1/events`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/cloudevents-batch+json' },
          body: JSON.stringify(events),
        });
        expect(response.status).toBe(200);
      };
            // A process knows the new subscription once its announcement has reached it, which a loaded machine can
      // delay past a first probe (published unmatched, so never delivered): probe each until one arrives.
      for (const [n, base] of processes.entries()) {
        await probeUntilDelivered(arrivals, `probe-${n}`, (id) => publish(base, [sampleEvent({ id, resource, subject: `/party/probe-${n}` })]));
      }

      const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
      const published = new Map(keys.map((key) => [key, [] as string[]]));
      // Rounds of one event per key, published to the two processes in turn: each claims and leases its share.
      for (let round = 0; round < 8; round++) {
        const events = keys.map((key) => {
          const eventId = `${key}-${round}`;
          published.get(key)?.push(eventId);
          return sampleEvent({ id: eventId, resource, subject: `/party/${key}` });
        });
        await publish(processes[round % 2] as string, events);
      }
      const flowing = keys.filter((key) => key !== 'a');
      await eventually(() => flowing.every((key) => arrivals.byKey.get(key)?.length === 8), 20_000);
      // Every other key is through while the failing key is still on its first event.
      expect(new Set(arrivals.byKey.get('a'))).toEqual(new Set(['a-0']));

      keyAFails = false;
      await eventually(() => (arrivals.byKey.get('a') ?? []).includes('a-7'), 20_000);
      const attemptsOfA = arrivals.byKey.get('a') ?? [];
      const firstTries = attemptsOfA.filter((eventId) => eventId === 'a-0').length;
      expect(firstTries).toBeGreaterThan(1);
      expect(attemptsOfA).toEqual([...Array.from({ length: firstTries }, () => 'a-0'), ...(published.get('a') ?? []).slice(1)]);
      for (const key of flowing) expect(arrivals.byKey.get(key), `key ${key}`).toEqual(published.get(key));
      for (const key of keys) expect(arrivals.mostInFlightPerKey.get(key), `key ${key}`).toBe(1);
      expect(arrivals.mostInFlight, 'different keys went in parallel').toBeGreaterThan(1);
      // Both processes sent: the one-at-a-time rule held across them, not inside one.
      for (const base of processes) expect(await attemptsMadeBy(base), base).toBeGreaterThan(0);
    },
    90_000,
  );
  it.skipIf(!postgresEngine.available)(
    'holds a replay to one delivery per key at a time across both processes, in creation order, while one key fails and events are published meanwhile',
    async () => {
      const env = {
        HERALD_ALLOW_PRIVATE_ENDPOINTS: 'true',
        HERALD_RETRY_SCHEDULE: '1s,1s,1s,1s,1s,1s,1s,1s',
        HERALD_DELIVERY_TIMEOUT: '5s',
        HERALD_PUBLISH_RATE_LIMIT: '0',
        HERALD_READ_RATE_LIMIT: '0',
      };
      const first = await startHeraldProcess(db.database, env);
      children.push(first.child);
      const second = await startHeraldProcess(db.database, env);
      children.push(second.child);
      const processes = [first.base, second.base];
      const auth = { authorization: `Bearer ${await testToken()}` };
      const json = { ...auth, 'content-type': 'application/json' };

      let keyAFails = true;
      const { behaviour, arrivals } = keyedReceiver(subjectKey, { holdMs: 10, fails: (event) => keyAFails && subjectKey(event) === 'a' });
      receiver.behave(behaviour);
      const created = await fetch(`${first.base}${subscriptionsPath}`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ endPoint: receiver.url, resourceFilter: resource, ordering: 'subject' }),
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: number };
      await eventually(async () => {
        const shown = await fetch(`${second.base}${subscriptionsPath}/${id}`, { headers: auth });
        return ((await shown.json()) as { status: string }).status === 'active';
      }, 15_000);
      const publish = async (base: string, events: Record<string, unknown>[]) => {
        const response = await fetch(`${base}/events/api/v1/events`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/cloudevents-batch+json' },
          body: JSON.stringify(events),
        });
        expect(response.status).toBe(200);
      };
      // A process knows the new subscription once its announcement has reached it, which a loaded machine can
      // delay past a first probe (published unmatched, so never delivered): probe each until one arrives.
      for (const [n, base] of processes.entries()) {
        await probeUntilDelivered(arrivals, `probe-${n}`, (id) => publish(base, [sampleEvent({ id, resource, subject: `/party/probe-${n}` })]));
      }

      const keys = ['a', 'b', 'c', 'd'];
      const round = (name: string) => keys.map((key) => sampleEvent({ id: `${key}-${name}`, resource, subject: `/party/${key}` }));
      for (let n = 0; n < 6; n++) await publish(processes[n % 2] as string, round(`live${n}`));
      const flowing = keys.filter((key) => key !== 'a');
      await eventually(() => flowing.every((key) => arrivals.byKey.get(key)?.length === 6), 20_000);

      // The replay of everything so far, asked of one process, while key a still fails; both processes enqueue
      // and send, and more is published to both meanwhile.
      const replay = await fetch(`${second.base}${subscriptionsPath}/${id}/replay`, { method: 'POST', headers: json, body: JSON.stringify({ after: '0' }) });
      expect(replay.status).toBe(202);
      const { id: replayId } = (await replay.json()) as { id: number };
      for (let n = 0; n < 4; n++) await publish(processes[n % 2] as string, round(`meanwhile${n}`));
      await eventually(async () => {
        const shown = await fetch(`${first.base}${subscriptionsPath}/${id}/replays/${replayId}`, { headers: auth });
        return ((await shown.json()) as { status: string }).status === 'completed';
      }, 20_000);
      // Every other key is through its live, replayed and new events while key a is still on its first.
      await eventually(() => flowing.every((key) => arrivals.byKey.get(key)?.length === 6 + 6 + 4), 20_000);
      expect(new Set(arrivals.byKey.get('a'))).toEqual(new Set(['a-live0']));

      keyAFails = false;
      // An attempt repeated (a retry) is one entry.
      const arrivedOnce = (key: string) => (arrivals.byKey.get(key) ?? []).filter((eventId, n, all) => n === 0 || all[n - 1] !== eventId);
      await eventually(() => keys.every((key) => arrivedOnce(key).length === 6 + 6 + 4), 30_000);
      // Per key, what arrived is what was created for it, in that order.
      const rows = await rawSql<{ id: string; subject: string }>(
        postgresEngine,
        db.database,
        'SELECT e.id, e.subject FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.subscription_id = $1 ORDER BY d.id',
        [id],
      );
      for (const key of keys) {
        const createdOfKey = rows.filter((row) => row.subject === `/party/${key}`).map((row) => row.id);
        expect(arrivedOnce(key), `key ${key}`).toEqual(createdOfKey);
        expect(createdOfKey.filter((eventId) => eventId.includes('live')), `key ${key}`).toEqual([
          ...Array.from({ length: 6 }, (_, n) => `${key}-live${n}`),
          ...Array.from({ length: 6 }, (_, n) => `${key}-live${n}`),
        ]);
        expect(arrivals.mostInFlightPerKey.get(key), `key ${key}`).toBe(1);
      }
      for (const base of processes) expect(await attemptsMadeBy(base), base).toBeGreaterThan(0);
    },
    120_000,
  );
});

/** Publishes a probe every second (new ids) until one of `key`'s arrives; fails after 45 s. */
async function probeUntilDelivered(arrivals: KeyedArrivals, key: string, publish: (id: string) => Promise<void>): Promise<void> {
  const deadline = Date.now() + 45_000;
  for (let tries = 0; !arrivals.byKey.get(key)?.length; tries++) {
    if (Date.now() > deadline) throw new Error(`no probe of ${key} arrived`);
    await publish(`${key}-${tries}`);
    const waitUntil = Date.now() + 1_000;
    while (!arrivals.byKey.get(key)?.length && Date.now() < waitUntil) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
