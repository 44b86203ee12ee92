import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { engines, type TestDatabase } from '../support/engines.js';
import { startHeraldProcess } from '../support/herald-process.js';
import { type Receiver, startReceiver } from '../support/receiver.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { parseScrape, type Scrape } from './prometheus-text.js';

const metricsToken = 'process-scrape-token-0123456789';

/** Scrapes until `ready` holds (the dispatcher records an outcome just after the receiver answers). */
async function scrapeUntil(base: string, ready: (scrape: Scrape) => boolean): Promise<Scrape> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(response.status).toBe(200);
    const scrape = parseScrape(await response.text());
    if (ready(scrape) || attempt >= 200) return scrape;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// How `herald serve` wires metrics (the app and the dispatcher share them); one engine is enough for that.
describe('herald serve: /metrics', () => {
  let db: TestDatabase;
  let receiver: Receiver;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    db = await (engines[0] as (typeof engines)[number]).create();
    receiver = await startReceiver();
  });
  afterEach(async () => {
    child?.kill('SIGKILL');
    await receiver.close();
    await db.destroy();
  });

  it('counts what its own dispatcher delivered, behind HERALD_METRICS_TOKEN', async () => {
    const started = await startHeraldProcess(db.database, {
      HERALD_ALLOW_PRIVATE_ENDPOINTS: 'true',
      HERALD_METRICS_TOKEN: metricsToken,
    });
    child = started.child;
    const { base } = started;
    expect((await fetch(`${base}/metrics`)).status).toBe(401);

    const headers = { authorization: `Bearer ${await testToken()}`, 'content-type': 'application/json' };
    const created = await fetch(`${base}/events/api/v1/subscriptions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ endPoint: receiver.url, resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api' }),
    });
    expect(created.status).toBe(201);
    // Publish once the handshake has made the subscription active, so the event is matched.
    await scrapeUntil(base, (s) => s.value('herald_subscriptions', { status: 'active', kind: 'push' }) === 1);
    const published = await fetch(`${base}/events/api/v1/events`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(sampleEvent()),
    });
    expect(published.status).toBe(200);
    expect(published.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    // The gauges are read before the latencies at a scrape: an outcome recorded in between shows its latency with
    // the lag read while the delivery was still in flight. So both are waited for.
    const scrape = await scrapeUntil(
      base,
      (s) => s.value('herald_delivery_latency_seconds_count') === 1 && s.value('herald_delivery_queue_lag_seconds') === 0,
    );
    expect(receiver.events()).toHaveLength(1);
    expect(scrape.value('herald_published_events_total', { outcome: 'stored' })).toBe(1);
    expect(scrape.value('herald_deliveries_total', { outcome: 'delivered', status_class: '2xx' })).toBe(1);
    expect(scrape.value('herald_delivery_latency_seconds_count')).toBe(1);
    expect(scrape.value('herald_delivery_queue_lag_seconds')).toBe(0);
    expect(scrape.value('herald_replays', { status: 'running' })).toBe(0);
    expect(scrape.value('herald_replayed_deliveries_total')).toBe(0);
    expect(scrape.value('herald_secret_rotations_total')).toBe(0);

    // A rotation and a replay of the log so far (the one event) count too.
    const { id } = (await created.json()) as { id: number };
    const subscription = `${base}/events/api/v1/subscriptions/${id}`;
    expect((await fetch(`${subscription}/secret/rotate`, { method: 'POST', headers, body: '{}' })).status).toBe(200);
    const replay = await fetch(`${subscription}/replay`, { method: 'POST', headers, body: JSON.stringify({ after: '~0' }) });
    expect(replay.status, await replay.clone().text()).toBe(202);
    const replayed = await scrapeUntil(base, (s) => s.value('herald_replayed_deliveries_total') === 1);
    expect(replayed.value('herald_replayed_deliveries_total')).toBe(1);
    expect(replayed.value('herald_secret_rotations_total')).toBe(1);
    expect(replayed.value('herald_replays', { status: 'waiting' })).toBe(0);
    await scrapeUntil(base, () => receiver.events().length === 2);
    expect(receiver.events()).toHaveLength(2);
  });
});
