import { dirname, resolve } from 'node:path';
import { databaseHosts, isPostgresUrl } from '../store/database-url.js';
import { type DeliveryBudgets, defaultBudgets } from '../domain/delivery-budgets.js';
import { parseDuration } from '../domain/duration.js';
import type { TracingSettings } from '../observability/tracing/tracing.js';
import { defaultHealthThresholds, type HealthThresholds } from '../domain/endpoint-health.js';
import { defaultReplayLimits } from '../domain/replay.js';
import { defaultStreamLimits } from '../domain/stream-slots.js';
import { parseRetrySchedule } from '../domain/retry-schedule.js';
import { defaultCommitBounds } from '../store/group-commit.js';
import { type CorsOrigins, parseCorsOrigins } from '../http/cors.js';
import { parseByteSize } from './byte-size.js';
import { type JwtConfig, readJwtConfig } from './jwt-config.js';
import { nonEmpty } from './non-empty.js';
import { readReplicas, type ReplicaSettings } from './replicas.js';

export interface HeraldConfig {
  readonly port: number;
  readonly host: string;
  /** A SQLite file path, or a `postgres://` URL. */
  readonly database: string;
  /** Where the embedded store and the development secret live. */
  readonly dataDir: string;
  /** PostgreSQL connections each process's pool may open (the notification listener takes one more). */
  readonly databasePoolSize: number;
  /** PostgreSQL: how long a publish waits for its commit to be acknowledged before a 503 (docs/high-availability.md). */
  readonly commitTimeoutMs: number;
  /** PostgreSQL: hot standbys that serve polls and event streams (docs/high-availability.md#read-replicas). */
  readonly replicas: ReplicaSettings;
  /** SQLite: reader threads (docs/storage.md). */
  readonly sqliteReaders: number;
  /** How far a V8 heap may grow past what its last full collection kept, in percent; 0 leaves it to V8 (docs/deployment.md). */
  readonly heapGrowthPercent: number;
  /** The public address of this Herald, for `next` links; derived from each request when unset. */
  readonly baseUrl: string | undefined;
  readonly jwt: JwtConfig;
  readonly limits: {
    readonly maxEventBytes: number;
    readonly maxRequestBytes: number;
    readonly maxSubscriptionsPerConsumer: number;
    /** Log rows one poll examines at most (docs/storage.md). */
    readonly pollExamineRows: number;
    /** Bytes of pages read ahead for polls, per process; 0: none (docs/poll.md#read-ahead). */
    readonly pollReadAheadBytes: number;
    /** Delivery rows one commit writes at most; a request with more fan-out commits in pieces (docs/storage.md). */
    readonly commitDeliveryRows: number;
    /** Log rows a replay's range may make Herald examine (docs/replay.md#limits). */
    readonly replayExamineRows: number;
  };
  readonly logLevel: string;
  /** The authorization policy file; unset, scopes alone decide. */
  readonly policyPath: string | undefined;
  /** Origins whose pages may call Herald (docs/cors.md); empty, no CORS headers. */
  readonly corsOrigins: CorsOrigins;
  /** The bearer token `GET /metrics` requires; unset, the metrics are open to anyone who can reach the port. */
  readonly metricsToken?: string | undefined;
  /** Serve the console at /console (docs/console.md); on by default: its files are public and it can do only what a token can. */
  readonly console: boolean;
  /** Tracing (docs/observability.md#tracing): set when an OTLP endpoint is configured, else off. */
  readonly tracing?: TracingSettings | undefined;
  /** Event streams (docs/poll.md#streaming): the heartbeat, and how many may be open per consumer and per process. */
  readonly streams: { readonly heartbeatMs: number; readonly perConsumer: number; readonly perProcess: number };
  /** Per consumer and process: events published, and reads, per second (0: no limit). */
  readonly rateLimits: { readonly publishPerSecond: number; readonly readPerSecond: number };
  readonly delivery: {
    /** Delays between attempts: the retry ladder. */
    readonly schedule: readonly number[];
    readonly timeoutMs: number;
    /** Added to the timeout to size a lease: how long a crashed process's deliveries wait before another takes them. */
    readonly leaseMarginMs: number;
    /** Plain http and private, loopback or link-local endpoints are allowed (development and tests). */
    readonly allowPrivateEndpoints: boolean;
    /** A pull subscription unread for this long becomes inactive. */
    readonly subscriptionInactivityMs: number;
    /** What each party may hold of the delivery slots (docs/isolation.md). */
    readonly budgets: DeliveryBudgets;
    /** The circuit breaker's thresholds (docs/isolation.md). */
    readonly health: HealthThresholds;
  };
  /** How long data is kept (docs/retention.md). */
  readonly retention: {
    /** Events, with every delivery of theirs and pull subscriptions' unacknowledged rows. */
    readonly eventsMs: number;
    /** Delivered and dead deliveries. */
    readonly deliveriesMs: number;
  };
}

/** Every variable Herald reads, with its default; `.env.example` documents the same list. */
export const defaults = {
  PORT: '8080',
  HOST: '0.0.0.0',
  HERALD_DATABASE: './data/herald.db',
  HERALD_DATABASE_POOL_SIZE: '10',
  HERALD_COMMIT_TIMEOUT: '10s',
  HERALD_DATABASE_REPLICAS: '',
  HERALD_REPLICA_MAX_WAIT: '1s',
  HERALD_REPLICA_MAX_LAG: '5s',
  HERALD_SQLITE_READERS: '2',
  HERALD_HEAP_GROWTH_PERCENT: '100',
  HERALD_JWKS_MAX_AGE: '5m',
  HERALD_MAX_EVENT_SIZE: '256KiB',
  HERALD_MAX_REQUEST_SIZE: '1MiB',
  HERALD_LOG_LEVEL: 'info',
  HERALD_RETRY_SCHEDULE: '10s,30s,1m,5m,10m,30m,1h,3h,6h,12h,12h',
  HERALD_DELIVERY_TIMEOUT: '30s',
  HERALD_DELIVERY_LEASE_MARGIN: '30s',
  HERALD_ALLOW_PRIVATE_ENDPOINTS: 'false',
  HERALD_SUBSCRIPTION_INACTIVITY: '30d',
  HERALD_DELIVERY_CONCURRENCY: String(defaultBudgets.perProcess),
  HERALD_DELIVERY_SUBSCRIPTION_BUDGET: String(defaultBudgets.perSubscription),
  HERALD_DELIVERY_CONSUMER_BUDGET: String(defaultBudgets.perConsumer),
  HERALD_DELIVERY_ORIGIN_BUDGET: String(defaultBudgets.perOrigin),
  HERALD_HANDSHAKE_CONCURRENCY: String(defaultBudgets.handshakes),
  HERALD_HANDSHAKE_CONSUMER_BUDGET: String(defaultBudgets.handshakesPerConsumer),
  HERALD_ENDPOINT_FAILURE_THRESHOLD: String(defaultHealthThresholds.failureThreshold),
  HERALD_ENDPOINT_PROBE_INTERVAL: '15s',
  HERALD_ENDPOINT_PROBE_MAX_INTERVAL: '15m',
  HERALD_RETENTION: '90d',
  HERALD_DELIVERY_RETENTION: '30d',
  HERALD_MAX_SUBSCRIPTIONS_PER_CONSUMER: '1000',
  HERALD_POLL_EXAMINE_LIMIT: '10000',
  HERALD_POLL_READ_AHEAD: '32MiB',
  HERALD_STREAM_HEARTBEAT: '15s',
  HERALD_STREAMS_PER_CONSUMER: String(defaultStreamLimits.perConsumer),
  HERALD_STREAMS_PER_PROCESS: String(defaultStreamLimits.perProcess),
  HERALD_COMMIT_FANOUT_LIMIT: String(defaultCommitBounds.deliveries),
  HERALD_REPLAY_EXAMINE_LIMIT: String(defaultReplayLimits.examinedRows),
  HERALD_PUBLISH_RATE_LIMIT: '2000',
  HERALD_READ_RATE_LIMIT: '50',
  HERALD_CONSOLE: 'on',
} as const;

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Raised at boot with every problem found in the environment, each naming its variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Herald's configuration is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the configuration from the environment, reporting every problem at once.
 * @example loadConfig({ HERALD_DATABASE: 'postgres://postgres@127.0.0.1/herald' })
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): HeraldConfig {
  const problems: string[] = [];
  const read = (name: keyof typeof defaults) => nonEmpty(env[name]) ?? defaults[name];

  // Digits only: Number() would also take '0x50' or '8e3' and listen somewhere nobody asked for.
  const port = /^\d+$/.test(read('PORT')) ? Number(read('PORT')) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    problems.push(`PORT must be a port number, not '${env.PORT}'.`);

  const database = read('HERALD_DATABASE');
  const dataDir = isPostgresUrl(database) ? resolve('data') : dirname(resolve(database));
  if (isPostgresUrl(database)) {
    try {
      // One host, or several in libpq's multi-host form (docs/high-availability.md).
      databaseHosts(database);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const commitTimeoutMs = parseDuration(read('HERALD_COMMIT_TIMEOUT'));
  if (commitTimeoutMs === undefined || commitTimeoutMs < 100 || commitTimeoutMs >= 30_000) {
    // PostgreSQL's statement timeout (30 s) would end a commit's wait for a standby first, as a success.
    problems.push('HERALD_COMMIT_TIMEOUT must be a duration from 100ms to under 30s, such as 10s.');
  }

  const replicas = readReplicas(read, database, problems);

  const databasePoolSize = /^\d{1,4}$/.test(read('HERALD_DATABASE_POOL_SIZE'))
    ? Number(read('HERALD_DATABASE_POOL_SIZE'))
    : Number.NaN;
  if (!(databasePoolSize >= 1)) problems.push('HERALD_DATABASE_POOL_SIZE must be a whole number of connections, at least 1.');
  const sqliteReaders = /^\d{1,2}$/.test(read('HERALD_SQLITE_READERS')) ? Number(read('HERALD_SQLITE_READERS')) : Number.NaN;
  if (!(sqliteReaders >= 0 && sqliteReaders <= 16)) {
    problems.push('HERALD_SQLITE_READERS must be a whole number of reader threads from 0 to 16 (0 reads on the writer thread).');
  }
  const heapGrowthPercent = /^\d{1,4}$/.test(read('HERALD_HEAP_GROWTH_PERCENT')) ? Number(read('HERALD_HEAP_GROWTH_PERCENT')) : Number.NaN;
  if (!(heapGrowthPercent === 0 || (heapGrowthPercent >= 10 && heapGrowthPercent <= 1000))) {
    problems.push('HERALD_HEAP_GROWTH_PERCENT must be a whole percentage from 10 to 1000, or 0 to leave the heap\'s growth to V8.');
  }

  const baseUrl = nonEmpty(env.HERALD_BASE_URL)?.replace(/\/+$/, '');
  if (baseUrl !== undefined && !/^https?:\/\/[^/\s]+(\/\S*)?$/.test(baseUrl)) {
    problems.push(
      `HERALD_BASE_URL must be an absolute http(s) URL such as https://events.example.com, not '${baseUrl}'.`,
    );
  }

  const limits = {
    maxEventBytes: parseByteSize(read('HERALD_MAX_EVENT_SIZE')) ?? Number.NaN,
    maxRequestBytes: parseByteSize(read('HERALD_MAX_REQUEST_SIZE')) ?? Number.NaN,
    maxSubscriptionsPerConsumer: /^\d{1,9}$/.test(read('HERALD_MAX_SUBSCRIPTIONS_PER_CONSUMER'))
      ? Number(read('HERALD_MAX_SUBSCRIPTIONS_PER_CONSUMER'))
      : Number.NaN,
    pollExamineRows: /^\d{1,9}$/.test(read('HERALD_POLL_EXAMINE_LIMIT')) ? Number(read('HERALD_POLL_EXAMINE_LIMIT')) : Number.NaN,
    pollReadAheadBytes: read('HERALD_POLL_READ_AHEAD') === '0' ? 0 : (parseByteSize(read('HERALD_POLL_READ_AHEAD')) ?? Number.NaN),
    commitDeliveryRows: /^\d{1,9}$/.test(read('HERALD_COMMIT_FANOUT_LIMIT')) ? Number(read('HERALD_COMMIT_FANOUT_LIMIT')) : Number.NaN,
    replayExamineRows: /^\d{1,9}$/.test(read('HERALD_REPLAY_EXAMINE_LIMIT')) ? Number(read('HERALD_REPLAY_EXAMINE_LIMIT')) : Number.NaN,
  };
  if (!(limits.pollExamineRows >= 100)) {
    problems.push('HERALD_POLL_EXAMINE_LIMIT must be a whole number of rows, at least 100.');
  }
  if (!(limits.pollReadAheadBytes >= 0)) problems.push("HERALD_POLL_READ_AHEAD must be a size such as 32MiB, or 0 for none.");
  if (!(limits.replayExamineRows >= 1_000)) {
    problems.push('HERALD_REPLAY_EXAMINE_LIMIT must be a whole number of rows, at least 1000.');
  }
  if (!(limits.commitDeliveryRows >= 100)) {
    problems.push('HERALD_COMMIT_FANOUT_LIMIT must be a whole number of delivery rows, at least 100.');
  }
  if (!(limits.maxEventBytes > 0)) problems.push('HERALD_MAX_EVENT_SIZE must be a size such as 256KiB.');
  if (!(limits.maxRequestBytes > 0)) problems.push('HERALD_MAX_REQUEST_SIZE must be a size such as 1MiB.');
  if (!(limits.maxSubscriptionsPerConsumer > 0)) {
    problems.push('HERALD_MAX_SUBSCRIPTIONS_PER_CONSUMER must be a whole number above 0.');
  }

  const logLevel = read('HERALD_LOG_LEVEL');
  if (!logLevels.includes(logLevel))
    problems.push(`HERALD_LOG_LEVEL must be one of ${logLevels.join(', ')}.`);

  const schedule = parseRetrySchedule(read('HERALD_RETRY_SCHEDULE'));
  if (!schedule) problems.push('HERALD_RETRY_SCHEDULE must be a comma-separated list of durations such as 10s,30s,1m.');
  const timeoutMs = parseDuration(read('HERALD_DELIVERY_TIMEOUT'));
  if (timeoutMs === undefined || timeoutMs <= 0) problems.push('HERALD_DELIVERY_TIMEOUT must be a duration such as 30s.');
  const leaseMarginMs = parseDuration(read('HERALD_DELIVERY_LEASE_MARGIN'));
  if (leaseMarginMs === undefined || leaseMarginMs <= 0) {
    problems.push('HERALD_DELIVERY_LEASE_MARGIN must be a duration such as 30s.');
  }
  const allowPrivate = read('HERALD_ALLOW_PRIVATE_ENDPOINTS').toLowerCase();
  if (!['true', 'false'].includes(allowPrivate)) problems.push('HERALD_ALLOW_PRIVATE_ENDPOINTS must be true or false.');
  const inactivityMs = parseDuration(read('HERALD_SUBSCRIPTION_INACTIVITY'));
  if (inactivityMs === undefined || inactivityMs <= 0) {
    problems.push('HERALD_SUBSCRIPTION_INACTIVITY must be a duration such as 30d.');
  }
  const delivery = {
    schedule: schedule ?? [],
    timeoutMs: timeoutMs ?? 0,
    leaseMarginMs: leaseMarginMs ?? 0,
    allowPrivateEndpoints: allowPrivate === 'true',
    subscriptionInactivityMs: inactivityMs ?? 0,
    budgets: readBudgets(read, problems),
    health: readHealthThresholds(read, problems),
  };

  const retention = {
    eventsMs: parseDuration(read('HERALD_RETENTION')) ?? 0,
    deliveriesMs: parseDuration(read('HERALD_DELIVERY_RETENTION')) ?? 0,
  };
  // At least a day: retention works at day granularity on PostgreSQL, and shorter would be a mistake.
  if (!(retention.eventsMs >= 86_400_000)) problems.push('HERALD_RETENTION must be a duration of at least 1d, such as 90d.');
  if (!(retention.deliveriesMs >= 86_400_000)) {
    problems.push('HERALD_DELIVERY_RETENTION must be a duration of at least 1d, such as 30d.');
  }

  const jwt = readJwtConfig(env, problems, defaults.HERALD_JWKS_MAX_AGE);
  const policyPath = nonEmpty(env.HERALD_POLICY);
  const metricsToken = nonEmpty(env.HERALD_METRICS_TOKEN);
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,}$/.test(metricsToken)) {
    problems.push('HERALD_METRICS_TOKEN must be at least 16 visible ASCII characters, without spaces.');
  }
  const rate = (name: 'HERALD_PUBLISH_RATE_LIMIT' | 'HERALD_READ_RATE_LIMIT') => {
    const text = read(name);
    if (!/^\d{1,9}$/.test(text)) problems.push(`${name} must be a whole number per second (0 turns the limit off).`);
    return Number(text) || 0;
  };
  const cors = parseCorsOrigins(env.HERALD_CORS_ORIGINS);
  if ('problem' in cors) problems.push(cors.problem);
  const rateLimits = { publishPerSecond: rate('HERALD_PUBLISH_RATE_LIMIT'), readPerSecond: rate('HERALD_READ_RATE_LIMIT') };
  const tracing = readTracing(env, problems);
  const streams = readStreams(read, problems);
  const consoleSetting = read('HERALD_CONSOLE').toLowerCase();
  if (!['on', 'off'].includes(consoleSetting)) problems.push('HERALD_CONSOLE must be on or off.');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host: read('HOST'),
    database,
    dataDir,
    databasePoolSize,
    commitTimeoutMs: commitTimeoutMs ?? 0,
    replicas,
    sqliteReaders,
    heapGrowthPercent,
    baseUrl,
    jwt,
    limits,
    logLevel,
    policyPath,
    rateLimits,
    streams,
    delivery,
    retention,
    metricsToken,
    corsOrigins: 'origins' in cors ? cors.origins : [],
    console: consoleSetting === 'on',
    tracing,
  };
}

/**
 * Tracing is on when OpenTelemetry's standard variables name an OTLP endpoint, and not turned off by
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. The exporter reads the endpoint and the other
 * `OTEL_EXPORTER_OTLP_*` variables itself; the provider reads `OTEL_TRACES_SAMPLER`.
 */
function readTracing(env: Readonly<Record<string, string | undefined>>, problems: string[]): TracingSettings | undefined {
  if (nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return undefined;
  const exporter = nonEmpty(env.OTEL_TRACES_EXPORTER)?.toLowerCase();
  if (exporter === 'none') return undefined;
  const name = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const endpoint = nonEmpty(env[name]);
  if (endpoint === undefined) return undefined;
  if (exporter !== undefined && exporter !== 'otlp') {
    problems.push(`OTEL_TRACES_EXPORTER must be otlp or none: Herald exports traces over OTLP/HTTP only, not '${exporter}'.`);
  }
  if (!/^https?:\/\/[^/]/i.test(endpoint) || !URL.canParse(endpoint)) {
    problems.push(`${name} must be an http or https URL, not '${endpoint}'.`);
  }
  return { serviceName: nonEmpty(env.OTEL_SERVICE_NAME) ?? 'herald' };
}

type Read = (name: keyof typeof defaults) => string;

function readStreams(read: Read, problems: string[]): HeraldConfig['streams'] {
  const heartbeatMs = parseDuration(read('HERALD_STREAM_HEARTBEAT'));
  // Below a second the heartbeats would be most of the traffic; above a few minutes proxies close idle streams.
  if (heartbeatMs === undefined || heartbeatMs < 1_000 || heartbeatMs > 600_000) {
    problems.push('HERALD_STREAM_HEARTBEAT must be a duration from 1s to 10m, such as 15s.');
  }
  const count = (name: 'HERALD_STREAMS_PER_CONSUMER' | 'HERALD_STREAMS_PER_PROCESS') => {
    const text = read(name);
    if (!/^\d{1,6}$/.test(text) || Number(text) < 1) problems.push(`${name} must be a whole number of streams above 0.`);
    return Number(text);
  };
  return { heartbeatMs: heartbeatMs ?? 0, perConsumer: count('HERALD_STREAMS_PER_CONSUMER'), perProcess: count('HERALD_STREAMS_PER_PROCESS') };
}

function readBudgets(read: Read, problems: string[]): DeliveryBudgets {
  const count = (name: keyof typeof defaults) => {
    const text = read(name);
    if (!/^\d{1,6}$/.test(text) || Number(text) < 1) problems.push(`${name} must be a whole number above 0.`);
    return Number(text);
  };
  return {
    perProcess: count('HERALD_DELIVERY_CONCURRENCY'),
    perSubscription: count('HERALD_DELIVERY_SUBSCRIPTION_BUDGET'),
    perConsumer: count('HERALD_DELIVERY_CONSUMER_BUDGET'),
    perOrigin: count('HERALD_DELIVERY_ORIGIN_BUDGET'),
    handshakes: count('HERALD_HANDSHAKE_CONCURRENCY'),
    handshakesPerConsumer: count('HERALD_HANDSHAKE_CONSUMER_BUDGET'),
  };
}

function readHealthThresholds(read: Read, problems: string[]): HealthThresholds {
  const threshold = read('HERALD_ENDPOINT_FAILURE_THRESHOLD');
  if (!/^\d{1,6}$/.test(threshold) || Number(threshold) < 1) {
    problems.push('HERALD_ENDPOINT_FAILURE_THRESHOLD must be a whole number of failures in a row, above 0.');
  }
  const probeIntervalMs = parseDuration(read('HERALD_ENDPOINT_PROBE_INTERVAL'));
  if (probeIntervalMs === undefined || probeIntervalMs <= 0) problems.push('HERALD_ENDPOINT_PROBE_INTERVAL must be a duration such as 15s.');
  const maxProbeIntervalMs = parseDuration(read('HERALD_ENDPOINT_PROBE_MAX_INTERVAL'));
  if (maxProbeIntervalMs === undefined || maxProbeIntervalMs < (probeIntervalMs ?? 0)) {
    problems.push('HERALD_ENDPOINT_PROBE_MAX_INTERVAL must be a duration no shorter than HERALD_ENDPOINT_PROBE_INTERVAL, such as 15m.');
  }
  return { failureThreshold: Number(threshold), probeIntervalMs: probeIntervalMs ?? 0, maxProbeIntervalMs: maxProbeIntervalMs ?? 0 };
}
