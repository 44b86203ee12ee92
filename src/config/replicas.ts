import { parseDuration } from '../domain/duration.js';
import { databaseHosts, isPostgresUrl } from '../store/database-url.js';

/** Read replicas (docs/high-availability.md#read-replicas): none unless HERALD_DATABASE_REPLICAS names some. */
export interface ReplicaSettings {
  /** One single-host postgres:// URL per hot standby. */
  readonly urls: readonly string[];
  /** HERALD_REPLICA_MAX_WAIT: how long a read waits for a replica to reach its cursor before reading from the primary. */
  readonly maxWaitMs: number;
  /** HERALD_REPLICA_MAX_LAG: a replica further behind than this is passed over until it catches up. */
  readonly maxLagMs: number;
}

type Read = (name: 'HERALD_DATABASE_REPLICAS' | 'HERALD_REPLICA_MAX_WAIT' | 'HERALD_REPLICA_MAX_LAG') => string;

/**
 * The replicas' URLs are separated by commas or spaces; a comma inside one URL's host list would be ambiguous,
 * so each URL starts with `postgres://` and names one host.
 * @example splitReplicaUrls('postgres://u@db2/herald, postgres://u@db3/herald') // two URLs
 */
export function splitReplicaUrls(text: string): string[] {
  return text
    .split(/[\s,]+(?=postgres(?:ql)?:\/\/)/i)
    .map((url) => url.trim().replace(/,$/, ''))
    .filter((url) => url !== '');
}

/** Reads and checks the replica settings, adding what is wrong to `problems`. */
export function readReplicas(read: Read, database: string, problems: string[]): ReplicaSettings {
  const urls = splitReplicaUrls(read('HERALD_DATABASE_REPLICAS'));
  if (urls.length > 0 && !isPostgresUrl(database)) {
    problems.push('HERALD_DATABASE_REPLICAS needs PostgreSQL: HERALD_DATABASE names a SQLite file, which has no replicas.');
  }
  urls.forEach((url, index) => {
    const place = `HERALD_DATABASE_REPLICAS' URL number ${index + 1}`;
    if (!isPostgresUrl(url)) {
      problems.push(`${place} must be a postgres:// URL.`);
      return;
    }
    // After the host: a comma or a space there is the start of something that is not a postgres:// URL.
    if (/[\s,]/.test(url.replace(/^[^/]*\/\/[^/?#]*/, ''))) {
      problems.push(`${place} is followed by something that is not a postgres:// URL: separate the URLs with commas or spaces.`);
      return;
    }
    try {
      if (databaseHosts(url).hosts.length > 1) problems.push(`${place} lists several hosts: give each replica its own URL.`);
    } catch (error) {
      problems.push(`${place}: ${(error as Error).message.replace('HERALD_DATABASE', 'the URL')}`);
    }
  });
  const maxWaitMs = parseDuration(read('HERALD_REPLICA_MAX_WAIT'));
  if (maxWaitMs === undefined || maxWaitMs > 30_000) {
    problems.push('HERALD_REPLICA_MAX_WAIT must be a duration from 0s to 30s, such as 1s (0s: read from the primary at once).');
  }
  const maxLagMs = parseDuration(read('HERALD_REPLICA_MAX_LAG'));
  if (maxLagMs === undefined || maxLagMs < 1_000) problems.push('HERALD_REPLICA_MAX_LAG must be a duration of at least 1s, such as 5s.');
  return { urls, maxWaitMs: maxWaitMs ?? 0, maxLagMs: maxLagMs ?? 0 };
}
