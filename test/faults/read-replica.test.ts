import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldMetrics } from '../../src/observability/herald-metrics.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { ReplicaReads } from '../../src/store/postgres/replica-reads.js';
import { PostgresCluster, skippedWithoutCluster } from '../support/postgres-cluster.js';
import { openEventStream, SseReader } from '../support/sse.js';
import { assembleHerald, type HeraldUnderTest, sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

const eventsPath = '/events/api/v1/events';
const streamPath = '/events/api/v1/events/stream';

/** Waits until `check` holds, polling; fails with `what` after `timeoutMs`. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Polls and event streams served by a read replica (docs/high-availability.md#read-replicas): an asynchronous
 * hot standby of a primary built for the test, Herald in this process given both (HERALD_DATABASE on the
 * primary, the standby as its replica). What the replica shows is a prefix of the primary's log: a poller and a
 * stream following it see every event once, in order, also across the replica's loss and return; a cursor from
 * the primary that the replica has not reached is answered, by the replica once it catches up or by the primary.
 */
describe('PostgreSQL read replica: polls and streams from an asynchronous hot standby', () => {
  if (skippedWithoutCluster()) return;
  let cluster: PostgresCluster;
  let store: PostgresStore;
  let herald: HeraldUnderTest;
  let base: string;
  let authorization: string;
  /** Pages read per server: `primary` or the replica's host:port. */
  const served = new Map<string, number>();
  const servedBy = (target: string) => served.get(target) ?? 0;
  let reads: ReplicaReads;

  const openReads = (maxWaitMs: number) =>
    ReplicaReads.open(store, [cluster.standby.url()], {
      maxWaitMs,
      maxLagMs: 60_000,
      poolSize: 4,
      checkEveryMs: 200,
      observer: { read: (target) => served.set(target, servedBy(target) + 1) },
    });

  beforeAll(async () => {
    cluster = await PostgresCluster.start({ synchronous: false });
    store = await PostgresStore.open({ connectionString: cluster.url([cluster.primary]) });
    reads = await openReads(500);
    herald = await assembleHerald(store, { logReads: reads, rateLimits: { publishPerSecond: 0, readPerSecond: 0 } });
    base = await herald.app.listen({ port: 0, host: '127.0.0.1' });
    authorization = `Bearer ${await testToken()}`;
  }, 120_000);
  afterAll(async () => {
    await herald?.close();
    await reads?.close();
    await store?.close();
    await cluster?.destroy();
  });

  const publish = async (resource: string, ids: readonly string[]) => {
    const response = await fetch(`${base}${eventsPath}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(ids.map((id) => sampleEvent({ id, resource }))),
    });
    expect(response.status, await response.clone().text()).toBe(200);
  };
  const poll = (query: string) => fetch(`${base}${eventsPath}?${query}`, { headers: { authorization } });
  /** The ids of `resource`'s events in log order, as the primary holds them. */
  const primaryLog = async (resource: string) =>
    (await cluster.sql<{ id: string }>(cluster.primary, `SELECT id FROM events WHERE resource = '${resource}' ORDER BY seq`)).map((row) => row.id);

  it('a poller and a stream on the replica see every event once and in order while publishing goes on, across the replica stopped (the primary serves) and started again (the replica serves again)', async () => {
    const resource = 'urn:altinn:resource:replica.follow';
    const replica = cluster.standby.address;
    let publishing = true;
    const acknowledged: string[] = [];
    const publisher = (async () => {
      for (let batch = 0; publishing; batch++) {
        const ids = [0, 1, 2].map((n) => `e-${batch}-${n}`);
        await publish(resource, ids);
        acknowledged.push(...ids);
      }
    })();

    const polled: string[] = [];
    let pollFailures = 0;
    let next = `${base}${eventsPath}?after=0&resource=${encodeURIComponent(resource)}&size=7`;
    const pollOnce = async () => {
      const response = await fetch(next, { headers: { authorization } });
      if (response.status !== 200) {
        // A poll in flight when the replica went away may fail; the next one goes elsewhere.
        pollFailures++;
        expect(response.status, await response.text()).toBe(503);
        return;
      }
      const page = ((await response.json()) as { id: string }[]).map((event) => event.id);
      polled.push(...page);
      // At the end of the log: a moment before the next poll, as a client would.
      if (page.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      next = (response.headers.get('next') as string).replace('https://herald.test', base);
    };

    const streamed: string[] = [];
    const streamReader = await openEventStream(`${base}${streamPath}?after=0&resource=${encodeURIComponent(resource)}`, { authorization });
    if (!(streamReader instanceof SseReader)) throw new Error(`the stream did not open: ${streamReader.status}`);
    let streaming = true;
    const streamer = (async () => {
      while (streaming) {
        const item = await streamReader.next();
        if (item === undefined) break;
        if (item.kind === 'message') streamed.push((JSON.parse(item.data) as { id: string }).id);
      }
    })();

    const pollUntil = async (what: string, done: () => boolean) => {
      while (!done()) {
        await pollOnce();
        if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      }
    };
    const deadline = Date.now() + 120_000;
    // The replica serves while it keeps up.
    await pollUntil('the replica to serve polls', () => servedBy(replica) >= 20 && acknowledged.length >= 60);

    // The replica lost mid-stream: reads go on from the primary.
    await cluster.stop(cluster.standby, 'immediate');
    const primaryBefore = servedBy('primary');
    const seenAtStop = acknowledged.length;
    await pollUntil('the primary to serve polls', () => servedBy('primary') >= primaryBefore + 20 && acknowledged.length >= seenAtStop + 60);

    // Back: once a check finds it answering, it serves again by itself.
    await cluster.restart(cluster.standby);
    const replicaBefore = servedBy(replica);
    await pollUntil('the replica to serve again', () => servedBy(replica) >= replicaBefore + 20);

    publishing = false;
    await publisher;
    const all = [...acknowledged];
    await pollUntil('the poller to reach the last event', () => polled.length >= all.length);
    await eventually('the stream to reach the last event', () => streamed.length >= all.length);
    streaming = false;
    await streamReader.close();
    await streamer.catch(() => {});

    const log = await primaryLog(resource);
    expect(new Set(all)).toEqual(new Set(log));
    // Exactly once, in commit order, for both.
    expect(polled).toEqual(log);
    expect(streamed).toEqual(log);
    console.warn(
      `[read replica] ${all.length} events; pages read on the replica ${servedBy(replica)}, on the primary ${servedBy('primary')}; ` +
        `${pollFailures} poll(s) failed as the replica went away`,
    );
  }, 180_000);

  it('a cursor from the primary that the replica has not reached is answered, never 400: by the primary after HERALD_REPLICA_MAX_WAIT, by the replica if it catches up meanwhile', async () => {
    const resource = 'urn:altinn:resource:replica.cursor';
    const replica = cluster.standby.address;
    await eventually('the replica to be used again', () => reads.status().every((r) => r.usable));
    await publish(resource, ['c-1', 'c-2']);
    await cluster.caughtUp(cluster.standby);
    // The replica stops applying the primary's commits: what follows exists on the primary alone.
    await cluster.sql(cluster.standby, 'SELECT pg_wal_replay_pause()');
    try {
      await publish(resource, ['c-3', 'c-4', 'c-5']);
      const positions = await cluster.sql<{ id: string; seq: string }>(
        cluster.primary,
        `SELECT id, seq::text AS seq FROM events WHERE resource = '${resource}' ORDER BY seq`,
      );
      const seqOf = (id: string) => Number(positions.find((row) => row.id === id)?.seq);
      const filter = `resource=${encodeURIComponent(resource)}`;
      const ids = async (response: Response) => {
        expect(response.status, await response.clone().text()).toBe(200);
        return ((await response.json()) as { id: string }[]).map((event) => event.id);
      };

      // A position and an event id only the primary has: the events after them, from the primary.
      const primaryBefore = servedBy('primary');
      expect(await ids(await poll(`after=~${seqOf('c-3')}&${filter}`))).toEqual(['c-4', 'c-5']);
      expect(await ids(await poll(`after=c-4&${filter}`))).toEqual(['c-5']);
      expect(await ids(await poll(`after=~${seqOf('c-5')}&${filter}`))).toEqual([]);
      expect(servedBy('primary')).toBeGreaterThan(primaryBefore);
      // A stream resuming from such a position starts, and sends what follows it.
      const resumed = await openEventStream(`${base}${streamPath}?${filter}`, { authorization, 'last-event-id': `~${seqOf('c-3')}` });
      if (!(resumed instanceof SseReader)) throw new Error(`the stream did not open: ${resumed.status} ${await resumed.text()}`);
      const sent: string[] = [];
      while (sent.length < 2) {
        const item = await resumed.next();
        if (item?.kind === 'message') sent.push((JSON.parse(item.data) as { id: string }).id);
      }
      await resumed.close();
      expect(sent).toEqual(['c-4', 'c-5']);
      // A position beyond the primary's log too is still unknown.
      const beyond = await poll(`after=~${seqOf('c-5') + 1_000_000}&${filter}`);
      expect(beyond.status).toBe(400);
      expect(((await beyond.json()) as { code: string }).code).toBe('events:unknownCursor');

      // With a long wait, a poll ahead of the replica waits, and the replica answers once it applies again.
      const patient = await openReads(60_000);
      const waiting = await assembleHerald(store, { logReads: patient, rateLimits: { publishPerSecond: 0, readPerSecond: 0 } });
      try {
        await eventually('the patient reader to use the replica', () => patient.status().every((r) => r.usable));
        const replicaBefore = servedBy(replica);
        const answer = waiting.app.inject({ method: 'GET', url: `${eventsPath}?after=~${seqOf('c-3')}&${filter}`, headers: { authorization } });
        await cluster.sql(cluster.standby, 'SELECT pg_wal_replay_resume()');
        const response = await answer;
        expect(response.statusCode, response.body).toBe(200);
        expect((response.json() as { id: string }[]).map((event) => event.id)).toEqual(['c-4', 'c-5']);
        expect(servedBy(replica)).toBeGreaterThan(replicaBefore);
      } finally {
        await waiting.close();
        await patient.close();
      }
    } finally {
      await cluster.sql(cluster.standby, 'SELECT pg_wal_replay_resume()').catch(() => {});
    }
  }, 120_000);

  it('spreads reads over two replicas; one that lags beyond HERALD_REPLICA_MAX_LAG is passed over, and used again once it catches up', async () => {
    const second = await cluster.addStandby();
    const metrics = new HeraldMetrics();
    const counted = new Map<string, number>();
    const countOf = (target: string) => counted.get(target) ?? 0;
    const both = await ReplicaReads.open(store, [cluster.standby.url(), second.url()], {
      maxWaitMs: 200,
      maxLagMs: 1_000,
      poolSize: 2,
      checkEveryMs: 100,
      observer: {
        read: (target) => {
          counted.set(target, countOf(target) + 1);
          metrics.replicas.read(target);
        },
        lag: metrics.replicas.lag,
      },
    });
    const spread = await assembleHerald(store, { logReads: both, rateLimits: { publishPerSecond: 0, readPerSecond: 0 } });
    const resource = 'urn:altinn:resource:replica.spread';
    const pollSpread = async () => {
      const response = await spread.app.inject({ method: 'GET', url: `${eventsPath}?after=0&resource=${encodeURIComponent(resource)}`, headers: { authorization } });
      expect(response.statusCode, response.body).toBe(200);
      return (response.json() as { id: string }[]).map((event) => event.id);
    };
    try {
      await publish(resource, ['s-1']);
      await eventually('both replicas to be used', () => both.status().every((r) => r.usable));
      for (let i = 0; i < 10; i++) await pollSpread();
      expect(countOf(cluster.standby.address)).toBeGreaterThan(0);
      expect(countOf(second.address)).toBeGreaterThan(0);
      // What /metrics shows: pages read per server, and each replica's lag.
      const text = await metrics.counts.metrics();
      expect(text).toContain(`herald_log_reads_total{target="${second.address}"}`);
      expect(text).toMatch(new RegExp(`herald_replica_lag_seconds\\{replica="${cluster.standby.address}"\\} \\d`));

      // The second replica stops applying while the primary goes on: it falls behind, and is passed over.
      await cluster.sql(second, 'SELECT pg_wal_replay_pause()');
      let n = 1;
      await eventually('the paused replica to be passed over', async () => {
        await publish(resource, [`s-${++n}`]);
        return both.status().find((r) => r.name === second.address)?.usable === false;
      });
      const secondBefore = countOf(second.address);
      for (let i = 0; i < 10; i++) await pollSpread();
      expect(countOf(second.address)).toBe(secondBefore);
      // What every poll saw was whole: the other replica or the primary had it all.
      expect(await pollSpread()).toEqual(Array.from({ length: n }, (_, i) => `s-${i + 1}`));

      await cluster.sql(second, 'SELECT pg_wal_replay_resume()');
      await eventually('the caught-up replica to be used again', () => both.status().every((r) => r.usable));
      await eventually('the caught-up replica to serve again', async () => {
        await pollSpread();
        return countOf(second.address) > secondBefore;
      });
    } finally {
      await cluster.sql(second, 'SELECT pg_wal_replay_resume()').catch(() => {});
      await spread.close();
      await both.close();
    }
  }, 120_000);
  // Last: it loses the primary for good.
  it('with the primary lost, polls go on from the replica: every event from before the loss once and in order, from the start and from an earlier next link; a cursor the replica lacks is 503, never 400; publishing 503; a replica lagging what the primary last had serves what it has', async () => {
    const resource = 'urn:altinn:resource:replica.primary-lost';
    const replica = cluster.standby.address;
    const filter = `resource=${encodeURIComponent(resource)}`;
    const before = Array.from({ length: 12 }, (_, n) => `p-${n + 1}`);
    // A second replica that stops applying halfway: it lags beyond HERALD_REPLICA_MAX_LAG and is passed over.
    const behind = cluster.replicas[0] ?? (await cluster.addStandby());
    await publish(resource, before.slice(0, 6));
    await cluster.caughtUp(behind);
    await cluster.sql(behind, 'SELECT pg_wal_replay_pause()');
    await publish(resource, before.slice(6));
    const lagging = await ReplicaReads.open(store, [behind.url()], { maxWaitMs: 200, maxLagMs: 300, poolSize: 2, checkEveryMs: 100 });
    const stale = await assembleHerald(store, { logReads: lagging, rateLimits: { publishPerSecond: 0, readPerSecond: 0 } });
    await eventually('the paused replica to be passed over', () => lagging.status()[0]?.usable === false);
    // A cursor from before the loss: the next link of a first page.
    const first = await poll(`after=0&${filter}&size=4`);
    expect(first.status).toBe(200);
    expect(((await first.json()) as { id: string }[]).map((event) => event.id)).toEqual(before.slice(0, 4));
    const earlierNext = (first.headers.get('next') as string).replace('https://herald.test', base);
    const [{ seq: lastSeq }] = (await cluster.sql<{ seq: string }>(cluster.primary, `SELECT max(seq)::text AS seq FROM events`)) as [{ seq: string }];
    await cluster.caughtUp(cluster.standby);
    await eventually('the replica to be used', () => reads.status().every((r) => r.usable));

    // Lost as a machine is lost: SIGKILL, nothing flushed, nothing restarts it, no standby promoted.
    await cluster.kill(cluster.primary);
    const primaryBefore = servedBy('primary');
    const replicaBefore = servedBy(replica);

    /** Follows `next` from `url` until an empty page, every answer a 200. */
    const follow = async (url: string) => {
      const ids: string[] = [];
      for (let pages = 0; pages < 20; pages++) {
        const response = await fetch(url, { headers: { authorization } });
        expect(response.status, await response.clone().text()).toBe(200);
        const page = ((await response.json()) as { id: string }[]).map((event) => event.id);
        url = (response.headers.get('next') as string).replace('https://herald.test', base);
        if (page.length === 0) return ids;
        ids.push(...page);
      }
      throw new Error('the poller did not reach the end of the log');
    };
    // Several checks of the replica's lag run meanwhile, each without the primary: it stays usable.
    for (let round = 0; round < 3; round++) {
      expect(await follow(`${base}${eventsPath}?after=0&${filter}&size=5`)).toEqual(before);
      expect(await follow(earlierNext)).toEqual(before.slice(4));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(reads.status().find((r) => r.name === replica)?.usable).toBe(true);
    expect(servedBy(replica)).toBeGreaterThan(replicaBefore);
    expect(servedBy('primary')).toBe(primaryBefore);

    // An event id the replica has is found there; the primary is not needed.
    expect(await follow(`${base}${eventsPath}?after=p-10&${filter}`)).toEqual(['p-11', 'p-12']);
    // What only the primary could judge (a position beyond the replica's head, an id the replica lacks) is
    // not called unknown while the primary cannot be asked: 503, retried later.
    for (const after of [`~${Number(lastSeq) + 1_000}`, 'no-such-event']) {
      const unknown = await poll(`after=${after}&${filter}`);
      expect(unknown.status, await unknown.clone().text()).toBe(503);
      expect(((await unknown.json()) as { code: string }).code).toBe('events:storeUnavailable');
    }

    const published = await fetch(`${base}${eventsPath}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify([sampleEvent({ id: 'p-after', resource })]),
    });
    expect(published.status, await published.text()).toBe(503);

    // The replica that lags what the primary last had: with the primary gone it is the only server left, so
    // it serves what it has (a prefix of the log) rather than every poll failing; beyond it, 503.
    try {
      await eventually('the lagging replica to serve with the primary gone', () => lagging.status()[0]?.usable === true);
      const stalePoll = async (after: string) =>
        stale.app.inject({ method: 'GET', url: `${eventsPath}?after=${after}&${filter}`, headers: { authorization } });
      const fromStart = await stalePoll('0');
      expect(fromStart.statusCode, fromStart.body).toBe(200);
      expect((fromStart.json() as { id: string }[]).map((event) => event.id)).toEqual(before.slice(0, 6));
      expect((await stalePoll('p-3')).json()).toHaveLength(3);
      const ahead = await stalePoll(`~${lastSeq}`);
      expect(ahead.statusCode, ahead.body).toBe(503);
    } finally {
      await stale.close();
      await lagging.close();
    }
  }, 120_000);
});
