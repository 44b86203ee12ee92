import { parseCloudEvent, type ValidEvent } from '../../src/domain/cloudevent.js';
import type { Authorizer } from '../../src/domain/policy.js';
import type { RateLimits } from '../../src/http/rate-limits.js';
import type { PollReadAhead } from '../../src/http/poll-read-ahead.js';
import type { FastifyInstance } from 'fastify';
import { Dispatcher, type DispatcherOptions } from '../../src/delivery/dispatcher.js';
import { healthAnnouncer } from '../../src/delivery/health-announcer.js';
import type { HealthThresholds } from '../../src/domain/endpoint-health.js';
import { GroupCommitAppender } from '../../src/store/group-commit.js';
import { PullMaintenance } from '../../src/delivery/pull-maintenance.js';
import { Replayer, type ReplayerOptions } from '../../src/delivery/replayer.js';
import type { ReplayLimits } from '../../src/domain/replay.js';
import { SubscriptionRegistry } from '../../src/delivery/subscription-registry.js';
import { WebhookSender } from '../../src/delivery/webhook-sender.js';
import { type AppOptions, buildApp } from '../../src/http/app.js';
import { createTokenVerifier, type TokenVerifier } from '../../src/http/auth/token-verifier.js';
import type { DeliveryClaim, Store } from '../../src/store/store.js';
import type { Tracing } from '../../src/observability/tracing/tracing.js';
import type { HeraldMetrics } from '../../src/observability/herald-metrics.js';
import type { OverviewSampler } from '../../src/observability/overview-sampler.js';
import type { Engine, TestDatabase } from './engines.js';
import { testSecret, testToken } from './tokens.js';

/** Herald's clock in tests: real time plus however far a test has moved it, so nothing ever sleeps. */
export class TestClock {
  private offset = 0;
  readonly now = () => Date.now() + this.offset;
  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface HeraldUnderTest {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly registry: SubscriptionRegistry;
  readonly dispatcher: Dispatcher;
  /** Pull subscriptions' inactivity and cleanup; tests call `runOnce()`. */
  readonly maintenance: PullMaintenance;
  /** The replay loop; tests call `runOnce()`. */
  readonly replayer: Replayer;
  readonly clock: TestClock;
  /** Closes the app, the dispatcher and the sender; not the store. */
  close(): Promise<void>;
}

export interface AssembleOptions {
  readonly limits?: AppOptions['limits'];
  readonly schedule?: readonly number[];
  readonly timeoutMs?: number;
  readonly allowPrivateEndpoints?: boolean;
  readonly baseUrl?: string | undefined;
  readonly verifier?: TokenVerifier;
  readonly inactivityMs?: number;
  readonly authorizer?: Authorizer;
  readonly rateLimits?: RateLimits;
  /** HERALD_CORS_ORIGINS, parsed; unset, no CORS. */
  readonly corsOrigins?: AppOptions['corsOrigins'];
  /** The dispatcher's limits and lease owner, where a test needs them other than the defaults. */
  readonly dispatcher?: Pick<DispatcherOptions, 'owner' | 'maxInFlight' | 'maxPerSubscription' | 'idleWaitMs' | 'budgets'>;
  /** The circuit breaker's thresholds, where a test needs them other than the defaults. */
  readonly health?: HealthThresholds;
  /** The webhook sender to use (a test may watch its requests); closed with the rest. */
  readonly sender?: WebhookSender;
  /** Passes every claim the dispatcher makes through this, for tests that watch the claim path. */
  readonly wrapClaim?: (claim: DeliveryClaim) => DeliveryClaim;
  /** The replay loop's bounds and lease owner, where a test needs them other than the defaults. */
  readonly replayer?: Pick<ReplayerOptions, 'owner' | 'piece' | 'leaseMs' | 'backfillSettleMs'>;
  readonly replayLimits?: Partial<ReplayLimits>;
  /** Spans for publishes, commits and attempts; unset, none (as when Herald is not configured to trace). */
  readonly tracing?: Tracing;
  /** The poll route's read-ahead, where a test watches it or turns it off. */
  readonly pollReadAhead?: PollReadAhead | false;
  /** Event streams' heartbeat and bounds, where a test needs them other than the defaults. */
  readonly streams?: AppOptions['streams'];
  /** Where the app and the dispatcher count, as `server.ts` shares one; unset, the app makes its own. */
  readonly metrics?: HeraldMetrics;
  /** What `GET /overview` answers from (a test drives its `sample()`); unset, one never started. */
  readonly overview?: OverviewSampler;
  /** HERALD_METRICS_TOKEN; unset, /metrics is open. */
  readonly metricsToken?: string;
  /** The console's folder, or `false` for none (HERALD_CONSOLE=off); unset, dist/console as `herald serve` has it. */
  readonly console?: AppOptions['console'];
  /** How long a client may take to send a whole request; unset, the app's default. */
  readonly requestTimeoutMs?: number;
}

export const defaultLimits = { maxEventBytes: 256 * 1024, maxRequestBytes: 1024 * 1024 };

/**
 * Herald's parts on a store, as `server.ts` puts them together, but without listening and with a dispatcher
 * that tests drive with `runOnce()` on a clock they move.
 */
export async function assembleHerald(store: Store, options: AssembleOptions = {}): Promise<HeraldUnderTest> {
  const clock = new TestClock();
  const registry = new SubscriptionRegistry(store);
  await registry.start();
  const timeoutMs = options.timeoutMs ?? 2_000;
  const sender =
    options.sender ?? new WebhookSender({ timeoutMs, allowPrivateAddresses: options.allowPrivateEndpoints ?? true });
  const announcements = new GroupCommitAppender(store, registry.match);
  const dispatcher = new Dispatcher({
    ...options.dispatcher,
    health: options.health,
    announceHealth: healthAnnouncer(announcements, () => options.baseUrl ?? baseUrl),
    store,
    registry,
    sender,
    schedule: options.schedule ?? [1_000, 2_000],
    timeoutMs,
    baseUrl: options.baseUrl ?? baseUrl,
    clock: clock.now,
    random: () => 0.5,
    authorizer: options.authorizer,
    tracing: options.tracing,
    metrics: options.metrics,
  });
  const replayer = new Replayer({ ...options.replayer, store, authorizer: options.authorizer, clock: clock.now });
  const wrapClaim = options.wrapClaim;
  const claim = () => {
    const made = dispatcher.claim();
    return made && wrapClaim ? wrapClaim(made) : made;
  };
  const app = await buildApp({
    store,
    verifier: options.verifier ?? createTokenVerifier({ key: { kind: 'secret', secret: testSecret } }),
    baseUrl: 'baseUrl' in options ? options.baseUrl : baseUrl,
    limits: options.limits ?? defaultLimits,
    delivery: { registry, wake: () => dispatcher.wake(), claim, allowPrivateEndpoints: options.allowPrivateEndpoints ?? true, sender },
    replays: { wake: () => replayer.wake(), limits: options.replayLimits },
    authorizer: options.authorizer,
    rateLimits: options.rateLimits,
    corsOrigins: options.corsOrigins,
    console: options.console,
    clock: clock.now,
    pullInactivityMs: options.inactivityMs ?? 60_000,
    tracing: options.tracing,
    pollReadAhead: options.pollReadAhead,
    streams: options.streams,
    metrics: options.metrics,
    overview: options.overview,
    metricsToken: options.metricsToken,
    requestTimeoutMs: options.requestTimeoutMs,
  });
  const maintenance = new PullMaintenance({ store, inactivityMs: options.inactivityMs ?? 60_000, clock: clock.now });
  let closed = false;
  return {
    app,
    store,
    registry,
    dispatcher,
    maintenance,
    replayer,
    clock,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await replayer.stop();
      await dispatcher.stop();
      await announcements.drain();
      await sender.close();
      registry.stop();
    },
  };
}

export interface TestApp extends HeraldUnderTest {
  readonly db: TestDatabase;
  /** A token with publish and subscribe scopes. */
  readonly token: string;
  readonly auth: { authorization: string };
}

export const baseUrl = 'https://herald.test';

/** Herald on a fresh database of the given engine, exercised through `app.inject()`. */
export async function createTestApp(
  engine: Engine,
  limits: AppOptions['limits'] = defaultLimits,
  options: AssembleOptions = {},
): Promise<TestApp> {
  const db = await engine.create();
  const store = await db.open();
  const herald = await assembleHerald(store, { limits, ...options });
  const token = await testToken();
  return {
    ...herald,
    db,
    token,
    auth: { authorization: `Bearer ${token}` },
    async close() {
      await herald.close();
      await db.destroy();
    },
  };
}

/** A valid structured event; override any attribute. */
export function sampleEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: crypto.randomUUID(),
    source: 'https://api.domstol.no/dodsbo-api/v1/dodsbo/91f2388f-bd8c-4647-8684-fd9f68af5b14',
    type: 'no.altinn.events.digitalt-dodsbo.opprettet',
    resource: 'urn:altinn:resource:dodsbo.domstoladmin.api',
    time: '2020-02-20T08:00:06.4014168Z',
    ...overrides,
  };
}

/** A sample event validated as publishing would, ready for a store; override any attribute. */
export function validEvent(overrides: Record<string, unknown> = {}): ValidEvent {
  const parsed = parseCloudEvent(sampleEvent(overrides));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}
