import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const consoleSources = fileURLToPath(new URL('../../console', import.meta.url));
const builtIndex = fileURLToPath(new URL('../../dist/console/index.html', import.meta.url));

/** The newest modification time of any file under a folder. */
async function newestIn(folder: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/**
 * Builds the console before the tests when dist/console is missing or older than any file under console/
 * (its sources, index.html, vite.config.ts), so a developer who edits the console and runs `npm test` (or
 * one file with vitest) tests what they edited. Tests then read the built files from dist/console, where
 * `herald serve` reads them.
 */
export default async function setup(): Promise<void> {
  const built = await stat(builtIndex).then((s) => s.mtimeMs, () => 0);
  if (built > (await newestIn(consoleSources))) return;
  console.warn('The console is missing or older than console/: building it (npm run build:console).');
  await build({ configFile: join(consoleSources, 'vite.config.ts'), logLevel: 'warn' });
}
