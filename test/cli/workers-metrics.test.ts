import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresEngine, type TestDatabase } from '../support/engines.js';
import { freePort } from '../support/herald-process.js';
import { alive, type LogLine, serveWorkers, workerServing } from '../support/herald-workers.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';
import { parseScrape, type Scrape } from '../observability/prometheus-text.js';

const metricsToken = 'group-scrape-token-0123456789';
const published = 12;

interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * One request on a connection of its own, so the cluster hands it to the next free worker. Gives up after
 * `patienceMs` (a connection handed to a stopped worker is never answered) and returns undefined.
 */
function onNewConnection(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
  patienceMs = 10_000,
): Promise<Answer | undefined> {
  return new Promise((resolve, reject) => {
    const sent = request({ host: '127.0.0.1', port, agent: false, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    sent.setTimeout(patienceMs, () => {
      sent.destroy();
      resolve(undefined);
    });
    sent.on('error', (error) => (sent.destroyed ? resolve(undefined) : reject(error)));
    sent.end(options.body);
  });
}

/** A scrape with the metrics token, retried on a new connection when one goes to a worker that cannot answer. */
async function scrape(port: number): Promise<{ scrape: Scrape; text: string }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const answer = await onNewConnection(port, { path: '/metrics', headers: { authorization: `Bearer ${metricsToken}` } }, 5_000);
    if (!answer) continue;
    expect(answer.status).toBe(200);
    return { scrape: parseScrape(answer.body), text: answer.body };
  }
  throw new Error('no worker answered /metrics');
}

/** Which processes logged serving a request for `path`. */
function servedBy(lines: readonly LogLine[], method: string, path: string): Set<number> {
  const served = lines.filter((line) => {
    const req = line.req as { method?: string; url?: string } | undefined;
    return line.msg === 'incoming request' && req?.method === method && req.url?.endsWith(path);
  });
  return new Set(served.map((line) => line.pid));
}

describe('herald serve --workers on PostgreSQL: /metrics answers for the whole group', () => {
  if (!postgresEngine.available) {
    it.skip('SKIPPED: PostgreSQL is not reachable (set HERALD_TEST_POSTGRES_URL)', () => {});
    return;
  }
  let db: TestDatabase;
  let herald: ReturnType<typeof serveWorkers>;
  let port: number;
  let workers: LogLine[];
  beforeAll(async () => {
    db = await postgresEngine.create();
    port = await freePort();
    herald = serveWorkers('2', {
      HERALD_DATABASE: db.database,
      PORT: String(port),
      HERALD_METRICS_TOKEN: metricsToken,
      HERALD_ALLOW_PRIVATE_ENDPOINTS: 'true',
    });
    const first = await herald.logged(workerServing);
    const second = await herald.logged((line) => workerServing(line) && line.workerPid !== first.workerPid);
    workers = [first, second];
  });
  afterAll(async () => {
    if (herald.child.exitCode === null) herald.child.kill('SIGKILL');
    for (const line of herald.lines) {
      if (line.workerPid && alive(line.workerPid)) {
        process.kill(line.workerPid, 'SIGCONT');
        process.kill(line.workerPid, 'SIGKILL');
      }
    }
    await db.destroy();
  });

  it('counts the events published through every worker exactly once on every scrape, whichever worker answers, and the database gauges once', async () => {
    expect((await onNewConnection(port, { path: '/metrics' }))?.status).toBe(401);
    const headers = { authorization: `Bearer ${await testToken()}`, 'content-type': 'application/json' };
    const subscribe = async (body: Record<string, string>) => {
      const created = await onNewConnection(port, { method: 'POST', path: '/events/api/v1/subscriptions', headers, body: JSON.stringify(body) });
      expect(created?.status).toBe(201);
    };
    // Two pull subscriptions (active at once) and a push one whose endpoint refuses the handshake (pending).
    await subscribe({ resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api' });
    await subscribe({ resourceFilter: 'urn:altinn:resource:another.resource' });
    await subscribe({ endPoint: `http://127.0.0.1:${await freePort()}/hook`, resourceFilter: 'urn:altinn:resource:another.resource' });

    for (let i = 0; i < published; i++) {
      const answer = await onNewConnection(port, {
        method: 'POST',
        path: '/events/api/v1/events',
        headers: { ...headers, 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(sampleEvent()),
      });
      expect(answer?.status).toBe(200);
    }
    const pids = workers.map((line) => line.workerPid);
    expect([...servedBy(herald.lines, 'POST', '/events/api/v1/events')].sort()).toEqual([...pids].sort());

    for (let i = 0; i < 6; i++) {
      const { scrape: metrics } = await scrape(port);
      expect(metrics.value('herald_published_events_total', { outcome: 'stored' })).toBe(published);
      expect(metrics.value('herald_publish_duration_seconds_count')).toBe(published);
      expect(metrics.value('herald_metrics_workers', { answer: 'fresh' })).toBe(2);
      // Read once from the one database, not once per worker and added up.
      expect(metrics.value('herald_subscriptions', { status: 'active', kind: 'pull' })).toBe(2);
      expect(metrics.value('herald_subscriptions', { status: 'pending', kind: 'push' })).toBe(1);
      expect(metrics.value('herald_delivery_queue_lag_seconds')).toBe(0);
      // Each process's own metrics, told apart by worker.
      for (const worker of ['1', '2']) expect(metrics.value('process_resident_memory_bytes', { worker })).toBeGreaterThan(0);
      expect(metrics.value('process_resident_memory_bytes')).toBeUndefined();
    }
    expect([...servedBy(herald.lines, 'GET', '/metrics')].sort()).toEqual([...pids].sort());
  });

  it('still answers while a worker is stopped: its counts from its previous answer, and the scrape says so', async () => {
    const [stopped, running] = workers as [LogLine, LogLine];
    process.kill(stopped.workerPid!, 'SIGSTOP');
    try {
      const { scrape: metrics, text } = await scrape(port);
      expect(metrics.value('herald_published_events_total', { outcome: 'stored' })).toBe(published);
      expect(metrics.value('herald_metrics_workers', { answer: 'fresh' })).toBe(1);
      expect(metrics.value('herald_metrics_workers', { answer: 'stale' })).toBe(1);
      expect(text).toContain(`# herald: worker ${String(stopped.slot)} did not answer within 1000 ms`);
      expect(metrics.value('process_resident_memory_bytes', { worker: String(running.slot) })).toBeGreaterThan(0);
      expect(metrics.value('process_resident_memory_bytes', { worker: String(stopped.slot) })).toBeUndefined();
    } finally {
      process.kill(stopped.workerPid!, 'SIGCONT');
    }
  });

  it("keeps a dead worker's counts in the group's totals, and its replacement takes over its worker label", async () => {
    const [killed] = workers as [LogLine, LogLine];
    const mark = herald.lines.length;
    process.kill(killed.workerPid!, 'SIGKILL');
    const replacement = await herald.logged(workerServing, mark);
    expect(replacement.slot).toBe(killed.slot);

    let metrics = (await scrape(port)).scrape;
    for (let i = 0; i < 20 && metrics.value('herald_metrics_workers', { answer: 'fresh' }) !== 2; i++) metrics = (await scrape(port)).scrape;
    expect(metrics.value('herald_metrics_workers', { answer: 'fresh' })).toBe(2);
    expect(metrics.value('herald_published_events_total', { outcome: 'stored' })).toBe(published);
    for (const worker of ['1', '2']) expect(metrics.value('process_resident_memory_bytes', { worker })).toBeGreaterThan(0);
  });
});
