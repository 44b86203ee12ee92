import type { SqlDialect } from '../sql-dialect.js';

/**
 * SQLite's SQL. Lists and rows travel as JSON text (the executor turns an array parameter into JSON) and are
 * read back with `json_each`. GLOB, not LIKE: SQLite's LIKE ignores case, and only `%` may be a wildcard in
 * Herald's filters. No row locks: one writer at a time, so a lease needs none.
 */
export const sqliteDialect: SqlDialect = {
  placeholder: () => '?',
  inList: (column, parameter) => `${column} IN (SELECT value FROM json_each($${parameter}))`,
  // `->>` gives SQL values: JSON integers as INTEGER, strings as TEXT, null as NULL.
  rowsOf: (parameter, columns) =>
    `(SELECT ${columns.map(([name], i) => `r.value->>${i} AS ${name}`).join(', ')} FROM json_each($${parameter}) AS r)`,
  payloadOf: (alias) => `${alias}.payload`,
  wildcardCondition: (column, parameter) => `${column} GLOB ${parameter}`,
  wildcardParameter: (parts) => parts.map((part) => part.replace(/[*?[]/g, (c) => `[${c}]`)).join('*'),
  lockForLease: () => '',
  // The attribute's text itself (a number's or a boolean's as SQLite renders it into the TEXT column).
  orderingKeyOf: (ordering, event) =>
    `CASE ${ordering} WHEN 'subject' THEN ${event}.subject ELSE ${event}.payload ->> '$.partitionkey' END`,
  orderedKeysLock: undefined,
  // SQLite's CROSS JOIN keeps the left table the outer loop (it has no LATERAL); the statement's LIMIT bounds the rest.
  joinEach: (table, alias, condition) => `CROSS JOIN ${table} ${alias} ON ${condition}`,
};
