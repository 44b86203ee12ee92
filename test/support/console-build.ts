import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The console's sources, and where `npm run build:console` writes what Herald serves at /console. */
const sources = 'console';
const built = join('dist', 'console', 'index.html');

/** The newest modification time among the files under `folder`. */
function newest(folder: string): number {
  let latest = 0;
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/**
 * Builds the console when dist/console is missing or older than its sources, so the browser tests test the
 * code in the tree: `npm ci` builds it (prepare), but an edit to the console between two `npm test` runs would
 * otherwise be tested as it was before. Answers what it did, for the run's log.
 */
export function ensureConsoleBuilt(): 'fresh' | 'built' | 'no console' {
  if (!existsSync(sources)) return 'no console';
  if (existsSync(built) && statSync(built).mtimeMs >= newest(sources)) return 'fresh';
  const build = spawnSync('npm', ['run', '--silent', 'build:console'], { encoding: 'utf8' });
  if (build.status !== 0) {
    throw new Error(`npm run build:console failed (exit ${build.status}):\n${build.stdout}\n${build.stderr}`);
  }
  return 'built';
}
