import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { altinnRetrySchedule } from '../../src/domain/retry-schedule.js';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaults, type HeraldConfig, loadConfig } from '../../src/config/config.js';

const secret = 'a-shared-hs256-secret-of-32-bytes!';
const pem = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----';

function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadConfig: defaults', () => {
  it('runs with no configuration at all: port 8080, every interface, the embedded SQLite store', () => {
    expect(loadConfig({})).toEqual<HeraldConfig>({
      port: 8080,
      host: '0.0.0.0',
      database: './data/herald.db',
      dataDir: resolve('data'),
      databasePoolSize: 10,
      sqliteReaders: 2,
      heapGrowthPercent: 100,
      baseUrl: undefined,
      jwt: { keys: { kind: 'development' }, issuer: undefined, audience: undefined },
      limits: { maxEventBytes: 256 * 1024, maxRequestBytes: 1024 * 1024, maxSubscriptionsPerConsumer: 1000, pollExamineRows: 10_000, pollReadAheadBytes: 32 * 1024 * 1024, commitDeliveryRows: 10_000, replayExamineRows: 500_000 },
      logLevel: 'info',
      policyPath: undefined,
      rateLimits: { publishPerSecond: 2000, readPerSecond: 50 },
      streams: { heartbeatMs: 15_000, perConsumer: 5, perProcess: 1_000 },
      corsOrigins: [],
      console: true,
      delivery: {
        schedule: altinnRetrySchedule,
        timeoutMs: 30_000,
        leaseMarginMs: 30_000,
        allowPrivateEndpoints: false,
        subscriptionInactivityMs: 30 * 86_400_000,
        budgets: { perProcess: 128, perSubscription: 32, perConsumer: 96, perOrigin: 112, handshakes: 8, handshakesPerConsumer: 2 },
        health: { failureThreshold: 10, probeIntervalMs: 15_000, maxProbeIntervalMs: 15 * 60_000 },
      },
      retention: { eventsMs: 90 * 86_400_000, deliveriesMs: 30 * 86_400_000 },
    });
  });

  it('treats blank variables as unset', () => {
    const blank = Object.fromEntries(
      [...Object.keys(defaults), 'HERALD_BASE_URL', 'HERALD_JWT_SECRET', 'HERALD_JWT_ISSUER'].map((n) => [
        n,
        '  ',
      ]),
    );
    expect(loadConfig(blank)).toEqual(loadConfig({}));
  });

  it('has exactly the defaults .env.example documents, and .env.example names every variable read', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const set = Object.fromEntries([...example.matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    expect(set).toEqual(defaults);
    const mentioned = new Set([...example.matchAll(/^#? ?([A-Z][A-Z_]+)=/gm)].map((m) => m[1]));
    const read = readFileSync(new URL('../../src/config/config.ts', import.meta.url), 'utf8').matchAll(/\b(HERALD_[A-Z_]+|PORT|HOST)\b/g);
    for (const [name] of read) expect(mentioned, name).toContain(name);
  });
});

describe('loadConfig: reading each variable', () => {
  it('reads the poll read-ahead as a size, 0 turning it off', () => {
    expect(loadConfig({ HERALD_POLL_READ_AHEAD: '8MiB' }).limits.pollReadAheadBytes).toBe(8 * 1024 * 1024);
    expect(loadConfig({ HERALD_POLL_READ_AHEAD: '0' }).limits.pollReadAheadBytes).toBe(0);
  });

  it('serves the console unless HERALD_CONSOLE is off, and refuses any other value', () => {
    expect(loadConfig({ HERALD_CONSOLE: 'off' }).console).toBe(false);
    expect(loadConfig({ HERALD_CONSOLE: 'OFF' }).console).toBe(false);
    expect(loadConfig({ HERALD_CONSOLE: 'on' }).console).toBe(true);
    expect(() => loadConfig({ HERALD_CONSOLE: 'no' })).toThrow('HERALD_CONSOLE must be on or off.');
  });

  it('reads PORT, HOST and HERALD_LOG_LEVEL, trimming whitespace', () => {
    expect(loadConfig({ PORT: ' 3000 ', HOST: '127.0.0.1', HERALD_LOG_LEVEL: 'debug' })).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      logLevel: 'debug',
    });
  });

  it('accepts port 0 (any free port) and 65535', () => {
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
    expect(loadConfig({ PORT: '65535' }).port).toBe(65_535);
  });

  it('keeps the data folder beside a SQLite file', () => {
    const config = loadConfig({ HERALD_DATABASE: '/var/lib/herald/events.db' });
    expect(config.database).toBe('/var/lib/herald/events.db');
    expect(config.dataDir).toBe(dirname(resolve('/var/lib/herald/events.db')));
  });

  it.each(['postgres://herald:secret@127.0.0.1:5432/herald', 'postgresql://db.example.com/herald'])(
    'uses ./data as the data folder with the PostgreSQL URL %s',
    (database) => {
      expect(loadConfig({ HERALD_DATABASE: database })).toMatchObject({ database, dataDir: resolve('data') });
    },
  );

  it('drops trailing slashes from HERALD_BASE_URL and keeps its path', () => {
    expect(loadConfig({ HERALD_BASE_URL: 'https://events.example.com//' }).baseUrl).toBe(
      'https://events.example.com',
    );
    expect(loadConfig({ HERALD_BASE_URL: 'http://localhost:8080/herald/' }).baseUrl).toBe(
      'http://localhost:8080/herald',
    );
  });

  it('reads the size limits in bytes, KiB or MiB', () => {
    expect(loadConfig({ HERALD_MAX_EVENT_SIZE: '1000', HERALD_MAX_REQUEST_SIZE: '2MiB' }).limits).toMatchObject({
      maxEventBytes: 1000,
      maxRequestBytes: 2 * 1024 * 1024,
    });
  });

  it('reads the delivery rows one commit writes at most', () => {
    expect(loadConfig({ HERALD_COMMIT_FANOUT_LIMIT: '2500' }).limits.commitDeliveryRows).toBe(2500);
  });

  it('reads the log rows a replay may examine', () => {
    expect(loadConfig({ HERALD_REPLAY_EXAMINE_LIMIT: '2000000' }).limits.replayExamineRows).toBe(2_000_000);
  });

  it('uses a shared secret when HERALD_JWT_SECRET is set, with issuer and audience', () => {
    expect(
      loadConfig({
        HERALD_JWT_SECRET: secret,
        HERALD_JWT_ISSUER: 'https://login.example.com/',
        HERALD_JWT_AUDIENCE: 'herald',
      }).jwt,
    ).toEqual({ keys: { kind: 'secret', secret }, issuer: 'https://login.example.com/', audience: 'herald' });
  });

  it('uses a PEM public key, turning escaped \\n into line breaks as .env files write them', () => {
    const config = loadConfig({ HERALD_JWT_PUBLIC_KEY: pem.replace(/\n/g, '\\n') });
    expect(config.jwt.keys).toEqual({ kind: 'publicKey', pem });
  });

  it('uses a JWKS URL', () => {
    const url = 'https://login.example.com/.well-known/jwks.json';
    expect(loadConfig({ HERALD_JWKS_URL: url }).jwt.keys).toEqual({ kind: 'jwks', url, maxAgeMs: 300_000 });
  });

  it('reads how old the JWKS may get, and refuses an age below a second', () => {
    const url = 'https://login.example.com/.well-known/jwks.json';
    expect(loadConfig({ HERALD_JWKS_URL: url, HERALD_JWKS_MAX_AGE: '30s' }).jwt.keys).toEqual({ kind: 'jwks', url, maxAgeMs: 30_000 });
    for (const age of ['500ms', 'soon', '0s']) {
      expect(() => loadConfig({ HERALD_JWKS_URL: url, HERALD_JWKS_MAX_AGE: age })).toThrow(/HERALD_JWKS_MAX_AGE/);
    }
  });

  it('counts the secret length in bytes, not characters', () => {
    expect(loadConfig({ HERALD_JWT_SECRET: 'æ'.repeat(16) }).jwt.keys).toEqual({
      kind: 'secret',
      secret: 'æ'.repeat(16),
    });
    expect(problemsOf({ HERALD_JWT_SECRET: 'æ'.repeat(15) })).toHaveLength(1);
  });

  it('accepts a secret of exactly 32 bytes', () => {
    expect(loadConfig({ HERALD_JWT_SECRET: 'x'.repeat(32) }).jwt.keys.kind).toBe('secret');
  });
});

describe('loadConfig: every problem named', () => {
  it.each([
    [{ PORT: 'eighty' }, "PORT must be a port number, not 'eighty'."],
    [{ PORT: '65536' }, "PORT must be a port number, not '65536'."],
    [{ PORT: '-1' }, "PORT must be a port number, not '-1'."],
    [{ PORT: '80.5' }, "PORT must be a port number, not '80.5'."],
    [{ PORT: '0x50' }, "PORT must be a port number, not '0x50'."],
    [{ PORT: '8e3' }, "PORT must be a port number, not '8e3'."],
    [{ HERALD_DATABASE: 'postgres://[::1/herald' }, 'HERALD_DATABASE is not a valid postgres:// URL.'],
    [{ HERALD_DATABASE: 'postgres://db:99999/herald' }, 'HERALD_DATABASE is not a valid postgres:// URL.'],
    [
      { HERALD_BASE_URL: 'events.example.com' },
      "HERALD_BASE_URL must be an absolute http(s) URL such as https://events.example.com, not 'events.example.com'.",
    ],
    [
      { HERALD_BASE_URL: 'ftp://events.example.com' },
      "HERALD_BASE_URL must be an absolute http(s) URL such as https://events.example.com, not 'ftp://events.example.com'.",
    ],
    [
      { HERALD_BASE_URL: 'https://events example.com' },
      "HERALD_BASE_URL must be an absolute http(s) URL such as https://events.example.com, not 'https://events example.com'.",
    ],
    [{ HERALD_MAX_EVENT_SIZE: 'big' }, 'HERALD_MAX_EVENT_SIZE must be a size such as 256KiB.'],
    [{ HERALD_MAX_EVENT_SIZE: '0' }, 'HERALD_MAX_EVENT_SIZE must be a size such as 256KiB.'],
    [{ HERALD_MAX_REQUEST_SIZE: '1GiB' }, 'HERALD_MAX_REQUEST_SIZE must be a size such as 1MiB.'],
    [{ HERALD_MAX_REQUEST_SIZE: '1.5MiB' }, 'HERALD_MAX_REQUEST_SIZE must be a size such as 1MiB.'],
    [{ HERALD_COMMIT_FANOUT_LIMIT: '99' }, 'HERALD_COMMIT_FANOUT_LIMIT must be a whole number of delivery rows, at least 100.'],
    [{ HERALD_COMMIT_FANOUT_LIMIT: '1e4' }, 'HERALD_COMMIT_FANOUT_LIMIT must be a whole number of delivery rows, at least 100.'],
    [{ HERALD_REPLAY_EXAMINE_LIMIT: '999' }, 'HERALD_REPLAY_EXAMINE_LIMIT must be a whole number of rows, at least 1000.'],
    [{ HERALD_REPLAY_EXAMINE_LIMIT: 'lots' }, 'HERALD_REPLAY_EXAMINE_LIMIT must be a whole number of rows, at least 1000.'],
    [
      { HERALD_LOG_LEVEL: 'verbose' },
      'HERALD_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent.',
    ],
    [
      { HERALD_LOG_LEVEL: 'INFO' },
      'HERALD_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent.',
    ],
    [
      { HERALD_JWT_SECRET: 'short' },
      'HERALD_JWT_SECRET must be at least 32 bytes long (HS256 needs 256 bits of key).',
    ],
    [
      { HERALD_JWT_PUBLIC_KEY: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE' },
      'HERALD_JWT_PUBLIC_KEY must hold a PEM public key (-----BEGIN PUBLIC KEY-----).',
    ],
    [{ HERALD_POLL_READ_AHEAD: 'lots' }, 'HERALD_POLL_READ_AHEAD must be a size such as 32MiB, or 0 for none.'],
    [{ HERALD_JWKS_URL: 'login.example.com/jwks.json' }, 'HERALD_JWKS_URL must be an http(s) URL.'],
    [
      { HERALD_JWT_SECRET: secret, HERALD_JWKS_URL: 'https://login.example.com/jwks' },
      'Set only one of HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY and HERALD_JWKS_URL.',
    ],
    [
      { HERALD_JWT_PUBLIC_KEY: pem, HERALD_JWKS_URL: 'https://login.example.com/jwks' },
      'Set only one of HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY and HERALD_JWKS_URL.',
    ],
    [{ HERALD_STREAM_HEARTBEAT: '500ms' }, 'HERALD_STREAM_HEARTBEAT must be a duration from 1s to 10m, such as 15s.'],
    [{ HERALD_STREAM_HEARTBEAT: 'often' }, 'HERALD_STREAM_HEARTBEAT must be a duration from 1s to 10m, such as 15s.'],
    [{ HERALD_STREAMS_PER_CONSUMER: '0' }, 'HERALD_STREAMS_PER_CONSUMER must be a whole number of streams above 0.'],
    [{ HERALD_STREAMS_PER_PROCESS: 'many' }, 'HERALD_STREAMS_PER_PROCESS must be a whole number of streams above 0.'],
  ])('refuses %j: %s', (env, problem) => {
    expect(problemsOf(env)).toEqual([problem]);
  });

  it('lists every problem at once in a ConfigError, each on its own line', () => {
    const env = {
      PORT: 'x',
      HERALD_BASE_URL: 'nowhere',
      HERALD_MAX_EVENT_SIZE: 'big',
      HERALD_JWT_SECRET: 'short',
    };
    let thrown: unknown;
    try {
      loadConfig(env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.name).toBe('ConfigError');
    expect(error.problems).toEqual([
      "PORT must be a port number, not 'x'.",
      "HERALD_BASE_URL must be an absolute http(s) URL such as https://events.example.com, not 'nowhere'.",
      'HERALD_MAX_EVENT_SIZE must be a size such as 256KiB.',
      'HERALD_JWT_SECRET must be at least 32 bytes long (HS256 needs 256 bits of key).',
    ]);
    expect(error.message).toBe(
      `Herald's configuration is not valid:\n${error.problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  });
});

describe('loadConfig: delivery', () => {
  it('reads the retry schedule, the delivery timeout and whether private endpoints are allowed', () => {
    const config = loadConfig({
      HERALD_RETRY_SCHEDULE: '1s,1s,2s',
      HERALD_DELIVERY_TIMEOUT: '500ms',
      HERALD_ALLOW_PRIVATE_ENDPOINTS: 'TRUE',
    });
    expect(config.delivery).toMatchObject({ schedule: [1000, 1000, 2000], timeoutMs: 500, allowPrivateEndpoints: true });
  });

  it('refuses a schedule, timeout or flag it cannot read, naming each variable', () => {
    const problems = problemsOf({ HERALD_RETRY_SCHEDULE: '1s,soon', HERALD_DELIVERY_TIMEOUT: '0s', HERALD_ALLOW_PRIVATE_ENDPOINTS: 'yes' });
    expect(problems.join('\n')).toMatch(/HERALD_RETRY_SCHEDULE[\s\S]*HERALD_DELIVERY_TIMEOUT[\s\S]*HERALD_ALLOW_PRIVATE_ENDPOINTS/);
  });
  it('reads the SQLite reader threads, and refuses a count it cannot use', () => {
    expect(loadConfig({}).sqliteReaders).toBe(2);
    expect(loadConfig({ HERALD_SQLITE_READERS: '0' }).sqliteReaders).toBe(0);
    for (const value of ['-1', 'many', '17']) {
      expect(problemsOf({ HERALD_SQLITE_READERS: value })).toEqual([
        'HERALD_SQLITE_READERS must be a whole number of reader threads from 0 to 16 (0 reads on the writer thread).',
      ]);
    }
  });
  it('reads how far heaps may grow, and refuses a percentage it cannot use', () => {
    expect(loadConfig({ HERALD_HEAP_GROWTH_PERCENT: '0' }).heapGrowthPercent).toBe(0);
    expect(loadConfig({ HERALD_HEAP_GROWTH_PERCENT: '50' }).heapGrowthPercent).toBe(50);
    for (const value of ['-1', 'half', '5', '1001']) {
      expect(problemsOf({ HERALD_HEAP_GROWTH_PERCENT: value })).toEqual([
        "HERALD_HEAP_GROWTH_PERCENT must be a whole percentage from 10 to 1000, or 0 to leave the heap's growth to V8.",
      ]);
    }
  });
  it('reads the lease margin and the PostgreSQL pool size, and refuses values it cannot use', () => {
    const config = loadConfig({ HERALD_DELIVERY_LEASE_MARGIN: '2s', HERALD_DATABASE_POOL_SIZE: '25' });
    expect(config.delivery.leaseMarginMs).toBe(2_000);
    expect(config.databasePoolSize).toBe(25);
    expect(problemsOf({ HERALD_DELIVERY_LEASE_MARGIN: 'soon', HERALD_DATABASE_POOL_SIZE: '0' })).toEqual([
      'HERALD_DATABASE_POOL_SIZE must be a whole number of connections, at least 1.',
      'HERALD_DELIVERY_LEASE_MARGIN must be a duration such as 30s.',
    ]);
    expect(problemsOf({ HERALD_DATABASE_POOL_SIZE: 'ten' })).toHaveLength(1);
  });
});

describe('loadConfig: HERALD_CORS_ORIGINS', () => {
  it('takes comma-separated origins, in lower case, or * alone', () => {
    expect(loadConfig({ HERALD_CORS_ORIGINS: 'https://App.example.com, http://localhost:3000' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:3000',
    ]);
    expect(loadConfig({ HERALD_CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    expect(loadConfig({ HERALD_CORS_ORIGINS: '' }).corsOrigins).toEqual([]);
  });

  it('refuses to start on anything but origins, naming the variable and the bad item', () => {
    for (const bad of ['app.example.com', 'https://app.example.com/path', 'ftp://x.example', 'https://a.example,*']) {
      const problems = problemsOf({ HERALD_CORS_ORIGINS: bad });
      expect(problems, bad).toEqual([expect.stringMatching(/^HERALD_CORS_ORIGINS must list origins/)]);
    }
  });
});

describe('loadConfig: tracing (OpenTelemetry standard variables)', () => {
  it('is off without an OTLP endpoint, and when the SDK or the traces exporter is turned off', () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_SERVICE_NAME: 'herald-eu' }).tracing).toBeUndefined();
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(loadConfig({ ...endpoint, OTEL_SDK_DISABLED: 'TRUE' }).tracing).toBeUndefined();
    expect(loadConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracing).toBeUndefined();
  });

  it('is on with either endpoint variable, named by OTEL_SERVICE_NAME or herald', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing).toEqual({ serviceName: 'herald' });
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/v1/traces', OTEL_SERVICE_NAME: ' herald-eu ' }).tracing,
    ).toEqual({ serviceName: 'herald-eu' });
  });

  it('refuses an endpoint that is not an http URL, and an exporter other than otlp', () => {
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toEqual([
      "OTEL_EXPORTER_OTLP_ENDPOINT must be an http or https URL, not 'collector:4318'.",
    ]);
    expect(problemsOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c/v1/traces', OTEL_TRACES_EXPORTER: 'zipkin' })).toEqual([
      "OTEL_TRACES_EXPORTER must be otlp or none: Herald exports traces over OTLP/HTTP only, not 'zipkin'.",
    ]);
  });
});
