import type { SqlDialect } from '../log-query-sql.js';

/** GLOB, not LIKE: SQLite's LIKE ignores case, and only `%` may be a wildcard in Herald's filters. */
export const sqliteDialect: SqlDialect = {
  payloadColumn: 'payload',
  placeholder: () => '?',
  wildcardCondition: (column, parameter) => `${column} GLOB ${parameter}`,
  wildcardParameter: (parts) => parts.map((part) => part.replace(/[*?[]/g, (c) => `[${c}]`)).join('*'),
};
