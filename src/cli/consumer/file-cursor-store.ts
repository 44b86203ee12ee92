import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CursorStore } from '@herald/client';

/**
 * A cursor (poll position or pull checkpoint) kept in a file of one line. Written to a temporary file and
 * renamed over the old one, so a process killed mid-write leaves the previous cursor, never half of one.
 */
export function fileCursorStore(path: string): CursorStore {
  return {
    async load() {
      try {
        const text = (await readFile(path, 'utf8')).trim();
        return text === '' ? undefined : text;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async save(cursor) {
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, `${cursor}\n`);
      await rename(temporary, path);
    },
  };
}
