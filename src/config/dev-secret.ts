import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const devSecretFile = 'dev-jwt-secret';

/**
 * The development signing secret, used when no key is configured: read from the data folder, or created
 * there (readable by its owner only) on first use. `herald token` and `herald serve` share it.
 */
export function loadOrCreateDevSecret(dataDir: string): { secret: string; path: string; created: boolean } {
  const path = join(dataDir, devSecretFile);
  try {
    return { secret: readFileSync(path, 'utf8').trim(), path, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateDevSecret(dataDir);
    throw error;
  }
  return { secret, path, created: true };
}
