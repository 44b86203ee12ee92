import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const devSecretFile = 'dev-jwt-secret';
const minimumSecretBytes = 32;

/**
 * The development signing secret, used when no key is configured: read from the data folder, or created
 * there (readable by its owner only) on first use. `herald token` and `herald serve` share it.
 */
export function loadOrCreateDevSecret(dataDir: string): { secret: string; path: string; created: boolean } {
  const path = join(dataDir, devSecretFile);
  let existing: string | undefined;
  try {
    existing = readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (existing !== undefined) {
    // A blank or truncated file would make a key anyone can guess; HS256 needs 256 bits.
    if (Buffer.byteLength(existing) < minimumSecretBytes) {
      throw new Error(
        `${path} holds no usable secret (under ${minimumSecretBytes} bytes): delete it and Herald makes a new one.`,
      );
    }
    return { secret: existing, path, created: false };
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
