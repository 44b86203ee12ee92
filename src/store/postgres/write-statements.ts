/**
 * What in a statement writes: a data-changing verb, a row lock (which PostgreSQL writes to the WAL too), a
 * sequence moved, a notification queued, or one of Herald's own functions (herald_settle, herald_append_…),
 * which write.
 */
const writing = /\b(?:INSERT|UPDATE|DELETE|MERGE|SHARE|nextval|setval|pg_notify|herald_\w+\s*\()/i;

/**
 * Whether a statement only reads, so its commit records nothing and never waits for a synchronous standby.
 * Anything else counts as a write and is bounded by HERALD_COMMIT_TIMEOUT (bounded-commit.ts): a read taken
 * for a write costs only that bound on it, a write taken for a read would wait for a missing standby.
 * @example onlyReads('SELECT count(*) AS n FROM subscriptions WHERE consumer = $1') // true
 * @example onlyReads('WITH due AS (SELECT id FROM deliveries FOR UPDATE SKIP LOCKED) UPDATE deliveries …') // false
 */
export function onlyReads(sql: string): boolean {
  return /^\s*(?:SELECT|WITH|SHOW)\b/i.test(sql) && !writing.test(sql);
}
