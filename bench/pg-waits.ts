import pg from 'pg';
import { type DatabaseHost, databaseHosts } from '../src/store/database-url.js';

/** What PostgreSQL's backends for one database were doing, as shares of the samples that found one busy. */
export interface WaitProfile {
  readonly samples: number;
  /** `CPU` when a busy backend waited on nothing, else `type:event` (e.g. `IO:WALSync`), most frequent first. */
  readonly shares: { readonly wait: string; readonly share: number }[];
}

/**
 * Samples `pg_stat_activity` every few milliseconds while a scenario runs: a profile of the database side
 * (where CPU profiles of Herald cannot see), read from the same view an operator would use. Stop it to get
 * the profile.
 */
export function sampleWaits(url: string): { stop(): Promise<WaitProfile> } {
  // Several hosts (postgres-sync): the first is the primary, where the work is.
  const databaseUrl = (databaseHosts(url).hosts[0] as DatabaseHost).url;
  const database = new URL(databaseUrl).pathname.slice(1);
  const counts = new Map<string, number>();
  let samples = 0;
  let running = true;
  const sampling = (async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      while (running) {
        const { rows } = await client.query<{ wait: string }>(
          `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait FROM pg_stat_activity
           WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()`,
          [database],
        );
        samples++;
        for (const { wait } of rows) counts.set(wait, (counts.get(wait) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      await client.end();
    }
  })();
  return {
    async stop() {
      running = false;
      await sampling;
      const busy = [...counts.values()].reduce((a, b) => a + b, 0);
      const shares = [...counts]
        .map(([wait, n]) => ({ wait, share: n / Math.max(1, busy) }))
        .sort((a, b) => b.share - a.share);
      return { samples, shares };
    },
  };
}

/** A table note on what the database waited on (empty where nothing was sampled, as on SQLite). */
export function waitsNote(profile: WaitProfile | undefined): string {
  return profile ? `; database backends busy on ${describeWaits(profile)}` : '';
}

/** `IO:WALSync 52 %, CPU 21 %, …`: the leading waits. */
export function describeWaits(profile: WaitProfile, top = 4): string {
  return profile.shares
    .slice(0, top)
    .map(({ wait, share }) => `${wait} ${Math.round(share * 100)} %`)
    .join(', ');
}
