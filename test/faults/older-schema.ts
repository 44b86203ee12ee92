import { readMigrations } from '../../src/store/migration-files.js';
import type { Engine, TestDatabase } from '../support/engines.js';
import { applyMigrations } from '../support/migrate.js';

/**
 * Builds `db` as an older Herald left it: every migration before the one whose name ends in `suffix` (found
 * by name, so the numbering may change). Then open the store to apply the rest.
 * @returns the migration's version
 */
export async function migrateToBefore(engine: Engine, db: TestDatabase, suffix: string): Promise<number> {
  const migrations = readMigrations(engine.name);
  const target = migrations.find((m) => m.name.endsWith(suffix));
  if (!target) throw new Error(`no ${engine.name} migration named *${suffix}`);
  await applyMigrations(engine.name, db.database, migrations.filter((m) => m.version < target.version));
  return target.version;
}
