import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachEngine, type TestDatabase } from '../support/engines.js';
import { freePort, startHeraldProcess } from '../support/herald-process.js';
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { sampleEvent } from '../support/test-app.js';
import { testToken } from '../support/tokens.js';

describeEachEngine('Tracing in herald serve, on $name', (engine) => {
  let db: TestDatabase;
  let otlp: OtlpReceiver;
  let webhooks: Receiver;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    db = await engine.create();
    otlp = await startOtlpReceiver();
    webhooks = await startReceiver();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await webhooks.close();
    await otlp.close();
    await db.destroy();
  });

  async function publishAndDeliver(base: string): Promise<void> {
    const headers = { authorization: `Bearer ${await testToken()}`, 'content-type': 'application/json' };
    const created = await fetch(`${base}/events/api/v1/subscriptions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ endPoint: webhooks.url, resourceFilter: 'urn:altinn:resource:dodsbo.domstoladmin.api' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    for (let i = 0; i < 200; i++) {
      const shown = (await (await fetch(`${base}/events/api/v1/subscriptions/${id}`, { headers })).json()) as { status: string };
      if (shown.status === 'active') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const published = await fetch(`${base}/events/api/v1/events`, { method: 'POST', headers, body: JSON.stringify(sampleEvent({ id: 'flushed' })) });
    expect(published.status).toBe(200);
    for (let waited = 0; webhooks.events().length === 0; waited += 20) {
      if (waited > 10_000) throw new Error('no delivery');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('exports the spans still batched when SIGTERM comes, then exits 0', async () => {
    // Spans are exported in batches, here once a minute: only the shutdown can have sent these.
    const herald = await startHeraldProcess(db.database, {
      HERALD_ALLOW_PRIVATE_ENDPOINTS: 'true',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '60000',
    });
    children.push(herald.child);
    await publishAndDeliver(herald.base);
    expect(otlp.spans).toEqual([]);
    herald.child.kill('SIGTERM');
    const [code] = (await once(herald.child, 'exit')) as [number];
    expect(code).toBe(0);
    const names = otlp.spans.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['POST /events/api/v1/events', 'commit', 'deliver']));
    expect(new Set(otlp.spans.map((s) => s.serviceName))).toEqual(new Set(['herald']));
    const [delivery] = webhooks.events();
    const attempt = otlp.spans.find((s) => s.name === 'deliver');
    expect(delivery?.headers.traceparent).toBe(`00-${attempt?.traceId}-${attempt?.spanId}-01`);
  }, 60_000);

  it('does not let a collector that is down hold the shutdown up for more than a few seconds', async () => {
    const herald = await startHeraldProcess(db.database, {
      HERALD_ALLOW_PRIVATE_ENDPOINTS: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      OTEL_SERVICE_NAME: 'herald-down',
    });
    children.push(herald.child);
    await publishAndDeliver(herald.base);
    const signalled = Date.now();
    herald.child.kill('SIGTERM');
    const [code] = (await once(herald.child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(8_000);
  }, 60_000);
});
