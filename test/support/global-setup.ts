import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { chromiumInstall, findChromium } from './chromium.js';
import { dropDatabases, runStartedAt, runTag, testDatabases } from './database-drops.js';

export const defaultPostgresUrl = 'postgres://postgres@127.0.0.1:5432/test';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The PostgreSQL the tests may create databases on, or null when none answers. */
    postgresUrl: string | null;
    /** The prefix of this run's test databases (database-drops.ts). */
    postgresRunTag: string;
  }
}

const banner = (lines: string[]) => {
  const rule = '!'.repeat(78);
  console.warn(`\n${rule}\n${lines.map((l) => `!!  ${l}`).join('\n')}\n${rule}\n`);
};

/** Checks once whether PostgreSQL answers; its tests are skipped, loudly, when it does not. */
export default async function setup(project: TestProject) {
  const url = process.env.HERALD_TEST_POSTGRES_URL || defaultPostgresUrl;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  let reachable = false;
  try {
    await client.connect();
    await client.query('SELECT 1');
    reachable = true;
  } catch (error) {
    banner([
      `PostgreSQL is NOT reachable at ${url}: ${(error as Error).message}`,
      'Every PostgreSQL test is SKIPPED. They have NOT passed.',
      'Start PostgreSQL or set HERALD_TEST_POSTGRES_URL, then run npm test again.',
    ]);
  } finally {
    await client.end().catch(() => {});
  }
  const chromium = findChromium();
  if (chromium === null) {
    banner([
      'Chromium is NOT installed (looked for HERALD_CHROMIUM, or chromium / chromium-browser on PATH).',
      'Every console browser test (test/console) is SKIPPED. They have NOT passed.',
      `Install it with: ${chromiumInstall}`,
    ]);
  }
  const tag = runTag(Date.now());
  project.provide('postgresUrl', reachable ? url : null);
  project.provide('postgresRunTag', tag);
  // Databases a run left behind (it was killed) go once they are a day old; never another run's in progress.
  if (reachable) {
    const stale = (await testDatabases(url)).filter((name) => (runStartedAt(name) ?? Infinity) < Date.now() - 86_400_000);
    await dropDatabases(url, stale);
  }
  return async () => {
    if (chromium === null) banner(['Reminder: the console browser tests were SKIPPED (no Chromium installed).']);
    if (!reachable) banner(['Reminder: the PostgreSQL tests were SKIPPED (no PostgreSQL reachable).']);
    // What this run's files did not drop themselves (a worker that died, a file cut short).
    else await dropDatabases(url, await testDatabases(url, `${tag}_`));
  };
}
