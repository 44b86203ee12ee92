import type { SqlDialect } from '../sql-dialect.js';

/**
 * PostgreSQL's SQL. Lists are arrays; rows travel as one `jsonb` parameter and are typed as they are read.
 * `payload` is `json` (the text as stored), read as text so the driver does not parse it. LIKE with `\`
 * escapes (the `C` collation makes it byte-wise, as SQLite's GLOB). Leases skip rows another process holds.
 */
export const postgresDialect: SqlDialect = {
  placeholder: (position) => `$${position}`,
  inList: (column, parameter) => `${column} = ANY($${parameter})`,
  rowsOf: (parameter, columns) =>
    `(SELECT ${columns.map(([name, type], i) => `(r->>${i})::${type} AS ${name}`).join(', ')} FROM jsonb_array_elements($${parameter}::jsonb) AS r)`,
  payloadOf: (alias) => `${alias}.payload::text`,
  wildcardCondition: (column, parameter) => `${column} LIKE ${parameter}`,
  wildcardParameter: (parts) => parts.map((part) => part.replace(/[\\%_]/g, (c) => `\\${c}`)).join('%'),
  lockForLease: (table) => `FOR UPDATE OF ${table} SKIP LOCKED`,
  // As herald_append_claimed computes it (013_ordered_delivery.sql): a 64-bit hash of the attribute's text.
  orderingKeyOf: (ordering, event) =>
    `hashtextextended(CASE ${ordering} WHEN 'subject' THEN ${event}.subject ELSE ${event}.payload ->> 'partitionkey' END, 0)`,
  // The lock publishing and herald_settle take before they look at a key's head (013_ordered_delivery.sql).
  orderedKeysLock: 'pg_advisory_xact_lock(4841014)',
  // LATERAL: a plain join lets the planner scan the whole table into a hash instead.
  joinEach: (table, alias, condition, limit) => `CROSS JOIN LATERAL (SELECT 1 FROM ${table} ${alias} WHERE ${condition} LIMIT ${limit}) AS ${alias}_each`,
};
