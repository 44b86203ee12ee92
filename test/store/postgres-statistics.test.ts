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

// The lease's and the poll's plans depend on fresh statistics (src/store/postgres/partition-statistics.ts).
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

  it('analyses the log partition the events went to once 10,000 were stored, and then as it grows by a fifth', async () => {
    const analyses = async () =>
      rawSql<{ relname: string; analyses: string; rows: string }>(
        postgresEngine,
        db.database,
        `SELECT s.relname, s.analyze_count AS analyses, c.reltuples::bigint AS rows FROM pg_stat_user_tables s
         JOIN pg_class c ON c.oid = s.relid WHERE s.relname LIKE 'events_p%' AND s.analyze_count > 0`,
      );
    const store500 = async (from: number) =>
      store.appendEvents(Array.from({ length: 500 }, (_, i) => validEvent({ id: `e-${from + i}` })), () => []);
    for (let n = 0; n < 9_500; n += 500) await store500(n);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await analyses()).toEqual([]);
    await store500(9_500);
    await eventually(async () => (await analyses()).length === 1);
    const [first] = await analyses();
    expect(first).toMatchObject({ relname: expect.stringMatching(/^events_p\d+$/), analyses: '1', rows: '10000' });
    // The next analysis waits for another 10,000 (a fifth of 10,000 is less), not for the next batch.
    for (let n = 10_000; n < 19_500; n += 500) await store500(n);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await analyses())[0]?.analyses).toBe('1');
    await store500(19_500);
    await eventually(async () => (await analyses())[0]?.analyses === '2');
  }, 60_000);
});
