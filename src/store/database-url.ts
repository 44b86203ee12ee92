/**
 * Whether `HERALD_DATABASE` names a PostgreSQL database rather than a SQLite file. Kept apart from the
 * engines so configuration can decide without loading a database driver.
 */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}
