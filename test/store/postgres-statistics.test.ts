import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ValidEvent } from '../../src/domain/cloudevent.js';
import type { Store } from '../../src/store/store.js';
import { postgresEngine, type TestDatabase } from '../support/engines.js';
import { validEvent } from '../support/test-app.js';
import { rawSql } from './retention-harness.js';

async function eventually(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// The lease's plan depends on fresh statistics (src/store/postgres/postgres-store.ts, analyzeDeliveriesAround).
describe.skipIf(!postgresEngine.available)('PostgreSQL: statistics after a large fan-out', () => {
  let db: TestDatabase;
  let store: Store;
  beforeEach(async () => {
    db = await postgresEngine.create();
    store = await db.open();
  });
  afterEach(async () => db?.destroy());

  it('analyses the partition the deliveries went to, and the subscriptions, once 10,000 deliveries were written', async () => {
    const subscriptions: number[] = [];
    for (let i = 0; i < 8; i++) {
      const spec = { endpoint: `https://hooks.example/${i}`, sourceFilter: null, resourceFilter: 'urn:altinn:resource:a', subjectFilter: null, alternativeSubjectFilter: null, typeFilter: null };
      const { subscription } = await store.subscriptions.create({
        ...spec,
        identity: `statistics-${i}`,
        consumer: '/org/ttd',
        createdBy: '/org/ttd',
        secret: 'whsec_c2VjcmV0',
        status: 'active',
        nextValidationAt: null,
        validatedAt: Date.now(),
        now: Date.now(),
      });
      subscriptions.push(subscription.id);
    }
    const analysed = async () =>
      rawSql<{ relname: string }>(
        postgresEngine,
        db.database,
        `SELECT relname FROM pg_stat_user_tables
         WHERE (relname LIKE 'deliveries_p%' OR relname = 'subscriptions') AND last_analyze IS NOT NULL`,
      );
    const batch = (from: number): ValidEvent[] => Array.from({ length: 250 }, (_, i) => validEvent({ id: `s-${from + i}` }));
    // 1,000 events × 8 subscriptions: 8,000 deliveries, under the threshold.
    for (let n = 0; n < 1_000; n += 250) await store.appendEvents(batch(n), () => subscriptions);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await analysed()).toEqual([]);
    // 2,000 more: past 10,000.
    for (let n = 1_000; n < 1_500; n += 250) await store.appendEvents(batch(n), () => subscriptions);
    await eventually(async () => (await analysed()).length === 2);
    expect((await analysed()).map((row) => row.relname).sort()).toEqual([expect.stringMatching(/^deliveries_p\d+$/), 'subscriptions']);
  });
});
