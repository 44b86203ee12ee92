import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCluster, skippedWithoutCluster } from '../support/postgres-cluster.js';

/**
 * The harness the high-availability tests stand on (test/support/postgres-cluster.ts): that its standby is
 * really synchronous, its replicas really stream, and its kill and promotion do what a lost server and an
 * operator's failover do.
 */
describe('a PostgreSQL primary with a synchronous standby, built for a test', () => {
  if (skippedWithoutCluster()) return;
  let cluster: PostgresCluster;

  beforeAll(async () => {
    cluster = await PostgresCluster.start();
  }, 120_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('replicates a commit to the standby and to an added asynchronous replica, read-only on both', async () => {
    await cluster.sql(cluster.primary, 'CREATE TABLE marks (n int)');
    await cluster.sql(cluster.primary, 'INSERT INTO marks VALUES (1)');
    const [state] = await cluster.sql<{ sync_state: string }>(cluster.primary, 'SELECT sync_state FROM pg_stat_replication');
    expect(state?.sync_state).toBe('sync');
    const replica = await cluster.addStandby();
    await cluster.caughtUp(replica);
    for (const node of [cluster.standby, replica]) {
      expect(await cluster.sql(node, 'SELECT n FROM marks')).toEqual([{ n: 1 }]);
      await expect(cluster.sql(node, 'INSERT INTO marks VALUES (2)')).rejects.toMatchObject({ code: '25006' });
    }
  }, 60_000);

  it('loses the primary to SIGKILL and promotes the standby, which then accepts writes alone', async () => {
    await cluster.killPrimary();
    await expect(cluster.sql(cluster.primary, 'SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await cluster.promote();
    expect(cluster.currentPrimary).toBe(cluster.standby);
    await cluster.sql(cluster.standby, 'INSERT INTO marks VALUES (3)');
    expect(await cluster.sql(cluster.standby, 'SELECT n FROM marks ORDER BY n')).toEqual([{ n: 1 }, { n: 3 }]);
  }, 60_000);
});
