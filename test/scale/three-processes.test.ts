import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchLimits } from '../../src/delivery/dispatcher.js';
import { postgresEngine, type TestDatabase } from '../support/engines.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import {
  api,
  eventually,
  fleetEnv,
  HoldingReceiver,
  killMember,
  type Member,
  orderEvents,
  Poller,
  publishSurely,
  replaceMember,
  startMember,
} from './fleet.js';

/** The fleet's settings, and budgets out of the way. */
const suiteEnv = {
  ...fleetEnv,
  // This suite is about scale-out (every process sends to one consumer's endpoint at once) and about retries
  // through every process; the isolation budgets and the circuit breaker, which would cap and suspend that one
  // endpoint, are proven in test/faults (docs/isolation.md).
  HERALD_DELIVERY_CONSUMER_BUDGET: '1000',
  HERALD_DELIVERY_ORIGIN_BUDGET: '1000',
  HERALD_ENDPOINT_FAILURE_THRESHOLD: '100000',
};

/** Attempts one process may have in flight to one endpoint. */
const perSubscriptionCap = dispatchLimits.maxPerSubscription;

/** Measurements go to the output, so a run shows what it measured and not only that it passed. */
const report = (line: string) => console.warn(`[scale] ${line}`);

describe('Three herald serve processes on one PostgreSQL', () => {
  if (!postgresEngine.available) {
    it.skip('SKIPPED: PostgreSQL is not reachable (set HERALD_TEST_POSTGRES_URL)', () => {});
    return;
  }
  let db: TestDatabase;
  const members: Member[] = [];
  const receivers: HoldingReceiver[] = [];
  let authorization: string;

  beforeAll(async () => {
    db = await postgresEngine.create();
    // One after another: the first migrates the fresh database, and three cold starts at once crowd two cores.
    for (const name of ['A', 'B', 'C']) members.push(await startMember(name, db.database, suiteEnv));
    authorization = `Bearer ${await testToken()}`;
  }, 120_000);
  afterAll(async () => {
    for (const member of members) member.child.kill('SIGKILL');
    for (const receiver of receivers) await receiver.close();
    await db.destroy();
  });

  const call = async (member: Member, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${member.base}${api}${path}`, {
      method,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };

  const subscribe = async (member: Member, endPoint: string, sourceFilter: string) => {
    const created = await call(member, 'POST', '/subscriptions', { endPoint, sourceFilter });
    expect(created.status).toBe(201);
    return created.json.id as number;
  };

  /** Every event id a subscription has a delivery row for, as any process lists them. */
  const deliveryEventIds = async (member: Member, subscriptionId: number) => {
    const ids: string[] = [];
    let after = 0;
    for (;;) {
      const page = await call(member, 'GET', `/subscriptions/${subscriptionId}/deliveries?size=1000&after=${after}`);
      expect(page.status).toBe(200);
      const deliveries = page.json.deliveries as { id: number; eventId: string }[];
      ids.push(...deliveries.map((d) => d.eventId));
      if (deliveries.length < 1000) return ids;
      after = (deliveries.at(-1) as { id: number }).id;
    }
  };

  it(
    'every poller sees every event once and in one order, every webhook gets every event, and a process killed mid-delivery loses nothing',
    async () => {
      const source = 'https://scale.example/orders';
      for (let i = 0; i < 3; i++) receivers.push(await HoldingReceiver.start());
      // One subscription made through each process.
      const subscriptionIds: number[] = [];
      for (const [i, receiver] of receivers.entries()) {
        subscriptionIds.push(await subscribe(members[i] as Member, receiver.url, source));
      }
      // Wait until every process matches every subscription: a warm-up event through each gets a delivery row for each.
      let round = 0;
      await eventually('every process to match the new subscriptions', async () => {
        const ids = members.map((m) => `warmup-${++round}-${m.name}`);
        await Promise.all(
          members.map((m, i) => publishSurely([m], 0, [sampleEvent({ id: ids[i], source, type: 'scale.warmup' })], authorization)),
        );
        const listed = await Promise.all(subscriptionIds.map((id) => deliveryEventIds(members[0] as Member, id)));
        return listed.every((rows) => ids.every((id) => rows.includes(id)));
      });

      // A poller on each process, following `next` from the start while the events are published.
      const pollers = members.map((_, i) => new Poller(() => members[i] as Member, `source=${encodeURIComponent(source)}&type=scale.order&size=1000`, authorization));
      for (const poller of pollers) poller.start();

      let published = 0;
      /** Publishes `count` events round robin through the members, one in four requests a batch of 20, 12 at a time. */
      const publishRound = async (count: number) => {
        const requests: Record<string, unknown>[][] = [];
        for (let j = 0; count > 0; j++) {
          const size = j % 4 === 3 ? Math.min(20, count) : 1;
          requests.push(orderEvents(published, size, source));
          published += size;
          count -= size;
        }
        let taken = 0;
        const acknowledgedBy = new Map<string, number>();
        await Promise.all(
          Array.from({ length: 12 }, async () => {
            while (taken < requests.length) {
              const index = taken++;
              const member = await publishSurely(members, index % members.length, requests[index]!, authorization);
              acknowledgedBy.set(member.name, (acknowledgedBy.get(member.name) ?? 0) + 1);
            }
          }),
        );
        return acknowledgedBy;
      };

      const firstRound = await publishRound(1_200);
      report(`first round: publish requests acknowledged per process ${JSON.stringify(Object.fromEntries(firstRound))}`);

      // Pile attempts up in flight on every process, then kill C while its attempts wait for an answer.
      for (const receiver of receivers) receiver.hold();
      const heldRound = publishRound(300);
      await eventually(
        `more than ${2 * perSubscriptionCap} attempts in flight to one endpoint (so C has some)`,
        () => receivers.some((r) => r.heldCount > 2 * perSubscriptionCap),
        30_000,
      );
      const heldAtKill = receivers.map((r) => r.heldRequests());
      const victim = members[2] as Member;
      await killMember(victim);
      const killedAt = performance.now();
      for (const receiver of receivers) receiver.release();
      await heldRound;
      report(`killed C (SIGKILL) with ${heldAtKill.map((h) => h.length).join(' / ')} attempts in flight to the three endpoints`);

      // C comes back as a new process while the last round is published through whoever is up.
      await Promise.all([publishRound(1_500), replaceMember(victim, db.database, suiteEnv)]);
      await publishRound(300); // through all three again
      const expected = Array.from({ length: published }, (_, i) => `order-${i}`);

      const orderIds = (receiver: HoldingReceiver) =>
        receiver.events().map((r) => r.json.id as string).filter((id) => id.startsWith('order-'));
      await eventually('every webhook to receive every event', () => receivers.every((r) => new Set(orderIds(r)).size === expected.length), 120_000);
      await eventually('every poller to reach the head', () => pollers.every((p) => p.seen.length >= expected.length), 60_000);
      // An attempt C sent but never saw answered reached its receiver, yet is not settled: another process must
      // send it again once C's lease lapses (5 s timeout + 1 s margin). Wait for that, however fast the rest was.
      const resent = (receiver: HoldingReceiver, lost: (typeof receiver.abandoned)[number]) =>
        receiver.arrivals.some(
          (x) => x.at > killedAt && x.request !== lost && x.request.headers['webhook-id'] === lost.headers['webhook-id'],
        );
      await eventually(
        "C's unanswered attempts to be sent again",
        () => receivers.every((receiver) => receiver.abandoned.every((lost) => resent(receiver, lost))),
        60_000,
      );
      for (const poller of pollers) await poller.stop();

      // Pollers: every event exactly once, in the same order on every process.
      for (const poller of pollers) {
        expect(poller.seen).toHaveLength(expected.length);
        expect(new Set(poller.seen).size).toBe(expected.length);
      }
      expect(pollers[1]!.seen).toEqual(pollers[0]!.seen);
      expect(pollers[2]!.seen).toEqual(pollers[0]!.seen);
      expect([...pollers[0]!.seen].sort()).toEqual([...expected].sort());

      // Webhooks: every event; a repeat is only ever a retry of the same delivery (the same webhook-id).
      const abandonedAll = receivers.reduce((n, r) => n + r.abandoned.length, 0);
      expect(abandonedAll, 'C had attempts in flight when it was killed').toBeGreaterThan(0);
      for (const [i, receiver] of receivers.entries()) {
        const deliveriesOf = new Map<string, Set<string>>();
        for (const request of receiver.events()) {
          const id = request.json.id as string;
          if (!id.startsWith('order-')) continue;
          const ids = deliveriesOf.get(id) ?? new Set<string>();
          ids.add(request.headers['webhook-id'] as string);
          deliveriesOf.set(id, ids);
        }
        expect([...deliveriesOf.keys()].sort()).toEqual([...expected].sort());
        expect([...deliveriesOf].filter(([, ids]) => ids.size !== 1)).toEqual([]);
        const received = orderIds(receiver).length;
        const inFlightAtKill = new Set(heldAtKill[i]!.map((r) => r.json.id as string));
        const repeated = [...new Set(orderIds(receiver).filter((id, k, all) => all.indexOf(id) !== k))];
        report(
          `webhook ${i + 1}: ${expected.length} events, ${received} requests, ${received - expected.length} repeats ` +
            `(${repeated.filter((id) => inFlightAtKill.has(id)).length} of ${repeated.length} repeated events were in flight ` +
            `when C was killed; ${receiver.abandoned.length} attempts lost their sender before the answer)`,
        );
      }
      // How long C's unanswered attempts waited for another process: the lease (5 s timeout + 1 s margin) and a round.
      const takenOverAfter = receivers.flatMap((receiver) =>
        receiver.abandoned.map((lost) => {
          const again = receiver.arrivals.find(
            (x) => x.at > killedAt && x.request !== lost && x.request.headers['webhook-id'] === lost.headers['webhook-id'],
          );
          return again ? again.at - killedAt : Number.POSITIVE_INFINITY;
        }),
      );
      report(`C's unanswered attempts were sent again by the others ${(Math.max(...takenOverAfter) / 1000).toFixed(1)} s after the kill at the latest`);
      expect(takenOverAfter.every(Number.isFinite)).toBe(true);
      report(`${expected.length} events through three processes; three pollers saw each once, in one order`);
    },
    300_000,
  );

  it('a subscription made through A receives events published through B and C within a second; deleted through A, B and C stop delivering to it', async () => {
    const [a, b, c] = members as [Member, Member, Member];
    const source = 'https://scale.example/probes';
    const receiver = await HoldingReceiver.start();
    receivers.push(receiver);

    // Probes: one event at a time through B and through C, each timed, until the change has surely reached both.
    const probes: { id: string; through: string; sentAt: number }[] = [];
    let probing = true;
    const probe = async (member: Member, prefix: string) => {
      for (let n = 0; probing; n++) {
        const id = `${prefix}-${member.name}-${n}`;
        probes.push({ id, through: member.name, sentAt: performance.now() });
        await publishSurely([member], 0, orderEvents(0, 1, source).map((e) => ({ ...e, id })), authorization);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };

    const createdAt = performance.now();
    const probing1 = Promise.all([probe(b, 'new'), probe(c, 'new')]);
    const subscriptionId = await subscribe(a, receiver.url, source);
    await eventually('the validation handshake', () => receiver.validatedAt !== undefined, 10_000);
    const validatedAt = receiver.validatedAt as number;
    // Probe on for 1.5 s after the handshake: longer than the bound, so a slower change shows as a failure.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    probing = false;
    await probing1;

    const matched = new Set(await deliveryEventIds(a, subscriptionId));
    for (const member of [b, c]) {
      const own = probes.filter((p) => p.through === member.name).sort((x, y) => x.sentAt - y.sentAt);
      const first = own.findIndex((p) => matched.has(p.id));
      expect(first, `a probe through ${member.name} matched the new subscription`).toBeGreaterThanOrEqual(0);
      // Once matched, always matched: no process flips back to a stale view.
      expect(own.slice(first).filter((p) => !matched.has(p.id))).toEqual([]);
      const afterHandshake = Math.max(0, own[first]!.sentAt - validatedAt);
      report(
        `new subscription reached ${member.name} within ${afterHandshake.toFixed(0)} ms of the handshake's answer (its ` +
          `first matching probe was sent then; ${(own[first]!.sentAt - createdAt).toFixed(0)} ms after POST /subscriptions)`,
      );
      expect(afterHandshake, `propagation to ${member.name} within 1 s`).toBeLessThanOrEqual(1_000);
    }
    await eventually('the subscription to receive every matched probe', () =>
      [...matched].every((id) => receiver.events().some((r) => r.json.id === id)),
    );

    // Delete: give the endpoint deliveries to retry (it answers 503), then delete through A.
    receiver.status = 503;
    const retried = probes.length;
    probing = true;
    const probing2 = Promise.all([probe(b, 'retry'), probe(c, 'retry')]);
    await eventually('retries through B and C', () => receiver.arrivals.filter((x) => (x.request.json.id as string).startsWith('retry-')).length >= 20);
    probing = false;
    await probing2;
    expect(probes.length).toBeGreaterThan(retried);
    const deleted = await call(a, 'DELETE', `/subscriptions/${subscriptionId}`);
    expect(deleted.status).toBe(200);
    const deletedAt = performance.now();
    receiver.status = 200;
    // Publish through B and C after the delete, and watch the endpoint for longer than the retry ladder's early rungs.
    probing = true;
    const probing3 = Promise.all([probe(b, 'gone'), probe(c, 'gone')]);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    probing = false;
    await probing3;
    const late = receiver.arrivals.filter((x) => x.at > deletedAt);
    const lastLate = Math.max(0, ...late.map((x) => x.at - deletedAt));
    report(
      `after DELETE through A: ${late.length} attempts reached the endpoint (the last ${lastLate.toFixed(0)} ms after), ` +
        `${late.filter((x) => (x.request.json.id as string).startsWith('gone-')).length} of them for events published after it`,
    );
    expect(late.filter((x) => (x.request.json.id as string).startsWith('gone-'))).toEqual([]);
    expect(lastLate, 'B and C stop delivering within 1 s').toBeLessThanOrEqual(1_000);
  }, 120_000);
});
