import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The browser tests drive Debian's Chromium (`apt-get install -y chromium`) through playwright-core: no
 * browser download, the same binary a CI image or a developer's machine already has.
 */
export const chromiumInstall = 'apt-get update && apt-get install -y chromium';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where Chromium is: `HERALD_CHROMIUM`, else `chromium` or `chromium-browser` on PATH, else null. */
export function findChromium(): string | null {
  const chosen = process.env.HERALD_CHROMIUM;
  if (chosen) return executable(chosen) ? chosen : null;
  const folders = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of ['chromium', 'chromium-browser']) {
    for (const folder of [...folders, '/usr/bin']) {
      const candidate = join(folder, name);
      if (executable(candidate)) return candidate;
    }
  }
  return null;
}
