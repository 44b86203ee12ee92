import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One numbered schema change: `001_events.sql` is version 1. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Reads an engine's migrations from `src/store/<engine>/migrations`. The path is resolved from the package
 * root, so the compiled code in `dist/` reads the same files as the sources.
 */
export function readMigrations(engine: 'sqlite' | 'postgres'): Migration[] {
  const folder = fileURLToPath(new URL(`../../src/store/${engine}/migrations/`, import.meta.url));
  return readdirSync(folder)
    .filter((file) => /^\d{3}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file, index) => {
      const version = Number(file.slice(0, 3));
      if (version !== index + 1)
        throw new Error(`Migration ${file} is out of sequence: expected ${index + 1}.`);
      return { version, name: file.replace(/\.sql$/, ''), sql: readFileSync(`${folder}${file}`, 'utf8') };
    });
}

/** The newest version this code knows. */
export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.at(-1)?.version ?? 0;
}
