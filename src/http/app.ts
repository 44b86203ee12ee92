import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { SubscriptionRegistry } from '../delivery/subscription-registry.js';
import type { WebhookSender } from '../delivery/webhook-sender.js';
import { type Authorizer, scopesOnly } from '../domain/policy.js';
import type { ReplayLimits } from '../domain/replay.js';
import { GroupCommitAppender } from '../store/group-commit.js';
import type { DeliveryClaim, Store } from '../store/store.js';
import { installAuthentication } from './auth/authenticate.js';
import type { TokenVerifier } from './auth/token-verifier.js';
import { type CorsOrigins, installCors } from './cors.js';
import { type ConsoleOptions, consoleRoutes } from './console.js';
import { installErrorHandler, sendProblem } from './error-handler.js';
import { readJsonBodiesOnly } from './json-body.js';
import { installOpenApi } from './openapi.js';
import { installRateLimits, type RateLimits } from './rate-limits.js';
import { defaultReadAheadLimits, PollReadAhead } from './poll-read-ahead.js';
import { pollRoute } from './routes/events/poll.js';
import { streamRoute } from './routes/events/stream.js';
import type { StreamLimits } from '../domain/stream-slots.js';
import { filterEvaluateRoute } from './routes/filters/evaluate.js';
import { filterTestRoute } from './routes/filters/test.js';
import { publishRoute } from './routes/events/publish.js';
import { deliveryRoutes } from './routes/subscriptions/deliveries.js';
import { deliveryAttemptRoutes } from './routes/subscriptions/delivery-attempts.js';
import { pingRoute } from './routes/subscriptions/ping.js';
import { pullRoute } from './routes/subscriptions/pull.js';
import { replayRoutes } from './routes/subscriptions/replays.js';
import { secretRoutes } from './routes/subscriptions/secret.js';
import { ReplayCounting } from './replay-plan.js';
import { subscriptionRoutes } from './routes/subscriptions/subscriptions.js';
import { healthRoutes } from './routes/health.js';
import { meRoute } from './routes/me.js';
import { metricsRoute } from './routes/metrics.js';
import { overviewRoute } from './routes/overview.js';
import { operatorActionRoutes } from './routes/subscriptions/operator-actions.js';
import { subscriptionReadRoutes } from './routes/subscriptions/read.js';
import { OverviewSampler, type OverviewSamplerOptions } from '../observability/overview-sampler.js';
import { HeraldMetrics } from '../observability/herald-metrics.js';
import { installRequestIdEcho, requestIdOf } from '../observability/request-id.js';
import { serializeRequest } from '../observability/request-log.js';
import type { Tracing } from '../observability/tracing/tracing.js';

export interface AppOptions {
  readonly store: Store;
  readonly verifier: TokenVerifier;
  readonly baseUrl?: string | undefined;
  readonly limits: {
    readonly maxEventBytes: number;
    readonly maxRequestBytes: number;
    readonly maxSubscriptionsPerConsumer?: number;
    /** Log rows one poll examines at most; unset, the default (docs/storage.md). */
    readonly pollExamineRows?: number;
    /** Bytes of pages read ahead for polls; 0: none; unset, the default (docs/poll.md#read-ahead). */
    readonly pollReadAheadBytes?: number;
    /** Delivery rows one commit writes at most; unset, the default (docs/storage.md#group-commit). */
    readonly commitDeliveryRows?: number;
  };
  readonly logger?: FastifyServerOptions['logger'];
  /** Pages of the log read ahead of a client following `next` (docs/poll.md#read-ahead); `false`: none. */
  readonly pollReadAhead?: PollReadAhead | false | undefined;
  /** Event streams (docs/poll.md#streaming): the heartbeat's period and the bounds; unset, the defaults. */
  readonly streams?: { readonly heartbeatMs?: number | undefined; readonly limits?: StreamLimits | undefined } | undefined;
  /** A pull subscription unread for this long is inactive, judged at each read (HERALD_SUBSCRIPTION_INACTIVITY). */
  readonly pullInactivityMs?: number | undefined;
  readonly delivery: {
    /** The subscriptions publishing fans out to. */
    readonly registry: SubscriptionRegistry;
    /** Tells the dispatcher that work is due. */
    readonly wake: () => void;
    /** This process's dispatcher offering to take new deliveries on at commit (see DeliveryClaim). */
    readonly claim?: () => DeliveryClaim | undefined;
    readonly allowPrivateEndpoints: boolean;
    /** The sender deliveries go through: `POST /subscriptions/{id}/ping` uses it. Unset, there is no ping route. */
    readonly sender?: WebhookSender | undefined;
  };
  /** Replays (docs/replay.md): the loop that enqueues them, and what one consumer may ask of it. */
  readonly replays?: {
    /** Tells the replay loop a replay is waiting. */
    readonly wake: () => void;
    readonly limits?: Partial<ReplayLimits> | undefined;
  };
  /** Who may do what beyond the scopes; without one, scopes alone decide. */
  readonly authorizer?: Authorizer;
  /** How long a client may take to send a whole request (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Per-consumer rate limits; unset, none. */
  readonly rateLimits?: RateLimits;
  /** Herald's clock; tests move it to walk the retry ladder without sleeping. */
  readonly clock?: () => number;
  /** Where this app counts what it does; made here when not given (`server.ts` shares one with the dispatcher). */
  readonly metrics?: HeraldMetrics;
  /** Origins whose pages may call Herald (HERALD_CORS_ORIGINS, docs/cors.md); unset or empty, no CORS headers. */
  readonly corsOrigins?: CorsOrigins | undefined;
  /** The bearer token `GET /metrics` requires; unset, it is open. */
  readonly metricsToken?: string | undefined;
  /** What `GET /metrics` answers instead of this process's own metrics (a `--workers` group's). */
  readonly renderMetrics?: ((now: number) => Promise<string>) | undefined;
  /** Spans for publishes and commits (docs/observability.md#tracing); unset, none. */
  readonly tracing?: Tracing | undefined;
  /**
   * What `GET /overview` answers from; `server.ts` starts it and stops it at shutdown. Unset, one that is never
   * started: the overview stays empty (tests that do not look at it sample nothing).
   */
  readonly overview?: OverviewSampler | undefined;
  /** The console at /console (HERALD_CONSOLE, docs/console.md); unset, served from dist/console; `false`, not served. */
  readonly console?: ConsoleOptions | false | undefined;
}

/** The logger options, with requests logged without personal data in their URLs (see request-log.ts). */
function withRedactedRequests(logger: NonNullable<AppOptions['logger']>): AppOptions['logger'] {
  if (logger === false) return false;
  const given = logger === true ? {} : logger;
  return { ...given, serializers: { ...given.serializers, req: serializeRequest } };
}

/**
 * Builds the HTTP application. It does not listen (`server.ts` does) and does not own the store: closing the
 * app finishes in-flight commits, then the caller closes the store.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: withRedactedRequests(options.logger ?? false),
    bodyLimit: options.limits.maxRequestBytes,
    // Altinn's clients send trailing and doubled slashes (`/events/`, `/subscriptions//12`).
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    return503OnClosing: true,
    // A client that trickles its request (slowloris) is cut off: the whole request must arrive within 30 s,
    // checked every second. Long polls are unaffected (this bounds receiving the request, not answering it).
    serverFactory: (handler) => {
      const requestTimeout = options.requestTimeoutMs ?? 30_000;
      return createServer(
        { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.min(1_000, requestTimeout) },
        handler,
      );
    },
    // A caller's X-Request-Id is kept only when it is short and safe to log; otherwise Herald makes one.
    requestIdHeader: false,
    genReqId: requestIdOf,
    // A path Fastify cannot even decode (`/subscriptions/%ZZ`) is a problem like any other bad request.
    frameworkErrors: (error, request, reply) => {
      void sendProblem(reply, 'invalidRequest', `The request's path is not valid: ${error.message}`, request.id);
    },
  });
  const metrics = options.metrics ?? new HeraldMetrics();
  installRequestIdEcho(app);
  // First: a preflight is answered before authentication, which it never carries.
  installCors(app, options.corsOrigins ?? []);
  installErrorHandler(app, metrics);
  installAuthentication(app, options.verifier);
  // Before any route: the OpenAPI document collects routes as they are registered.
  await installOpenApi(app, { baseUrl: options.baseUrl });
  const publishLimiter = installRateLimits(app, options.rateLimits);

  readJsonBodiesOnly(app);

  const authorizer = options.authorizer ?? scopesOnly;
  const appender = new GroupCommitAppender(
    options.store,
    options.delivery.registry.match,
    { committed: (events) => metrics.committed(events), failed: (error) => metrics.storeFailed(error, 'publish') },
    options.delivery.claim,
    { deliveries: options.limits.commitDeliveryRows },
    options.tracing,
  );
  app.addHook('onClose', async () => appender.drain());

  await app.register(healthRoutes, { store: options.store });
  if (options.console !== false) await app.register(consoleRoutes, options.console ?? {});
  await app.register(metricsRoute, {
    store: options.store,
    metrics,
    token: options.metricsToken,
    clock: options.clock,
    render: options.renderMetrics,
  });
  await app.register(meRoute);
  await app.register(overviewRoute, {
    sampler: options.overview ?? overviewSamplerFor(options.store, metrics),
    // The overview's rates are the figures /metrics shows: when its token closes them, only operators read them.
    operatorsOnly: options.metricsToken !== undefined,
  });
  await app.register(pollRoute, {
    store: options.store,
    baseUrl: options.baseUrl,
    authorizer,
    examineAtMost: options.limits.pollExamineRows,
    readAhead: options.pollReadAhead ?? readAheadOf(options.limits.pollReadAheadBytes),
  });
  await app.register(streamRoute, {
    store: options.store,
    authorizer,
    examineAtMost: options.limits.pollExamineRows,
    heartbeatMs: options.streams?.heartbeatMs,
    limits: options.streams?.limits,
    observer: metrics.streams,
  });
  const { registry, wake: wakeDispatcher, allowPrivateEndpoints } = options.delivery;
  const replayCounting = new ReplayCounting();
  await app.register(subscriptionRoutes, {
    store: options.store,
    allowPrivateEndpoints,
    wakeDispatcher,
    refreshMatching: (subscriptionId) => registry.refresh([subscriptionId]),
    authorizer,
    maxPerConsumer: options.limits.maxSubscriptionsPerConsumer,
    wakeReplayer: options.replays?.wake,
    replayLimits: options.replays?.limits,
    replayCounting,
    clock: options.clock,
  });
  await app.register(subscriptionReadRoutes, { store: options.store });
  await app.register(operatorActionRoutes, {
    store: options.store,
    wakeDispatcher,
    refreshMatching: (subscriptionId) => registry.refresh([subscriptionId]),
    clock: options.clock,
  });
  // The first process to start makes the key; every process on the database then shares it.
  const checkpointKey = Buffer.from(await options.store.pull.key('checkpoint', randomBytes(32).toString('base64')), 'base64');
  await app.register(pullRoute, {
    store: options.store,
    checkpointKey,
    clock: options.clock,
    authorizer,
    metrics,
    inactivityMs: options.pullInactivityMs,
  });
  await app.register(secretRoutes, {
    store: options.store,
    refreshSubscription: (subscriptionId) => registry.refresh([subscriptionId]),
    clock: options.clock,
    metrics,
  });
  await app.register(deliveryRoutes, { store: options.store, wakeDispatcher, clock: options.clock, authorizer });
  await app.register(deliveryAttemptRoutes, { store: options.store, wakeDispatcher, clock: options.clock, authorizer });
  if (options.delivery.sender) {
    await app.register(pingRoute, { store: options.store, sender: options.delivery.sender, baseUrl: options.baseUrl, clock: options.clock });
  }
  await app.register(replayRoutes, {
    store: options.store,
    authorizer,
    wakeReplayer: options.replays?.wake ?? (() => {}),
    limits: options.replays?.limits,
    counting: replayCounting,
    clock: options.clock,
  });
  await app.register(filterEvaluateRoute);
  await app.register(filterTestRoute, { store: options.store, authorizer, allowPrivateEndpoints });
  await app.register(publishRoute, {
    appender,
    authorizer,
    publishLimiter,
    maxEventBytes: options.limits.maxEventBytes,
    maxRequestBytes: options.limits.maxRequestBytes,
    metrics,
    tracing: options.tracing,
  });
  return app;
}

/** The poll read-ahead for a byte limit: none for 0, the defaults when unset. */
function readAheadOf(bytes: number | undefined): PollReadAhead | false {
  if (bytes === 0) return false;
  return new PollReadAhead(bytes === undefined ? defaultReadAheadLimits : { ...defaultReadAheadLimits, bytes });
}

/**
 * The overview sampler of this process's metrics (or, with `readCounts`, a `--workers` group's) and the
 * store's bounded counts (docs/observability.md, "Overview"). Not started: whoever runs Herald starts and stops it.
 */
export function overviewSamplerFor(
  store: Store,
  metrics: HeraldMetrics,
  options: { readonly clock?: () => number; readonly readCounts?: OverviewSamplerOptions['readCounts'] | undefined } = {},
): OverviewSampler {
  const { clock } = options;
  return new OverviewSampler({
    readCounts: options.readCounts ?? (() => metrics.countsReport(store)),
    readTotals: () => store.deliveries.counts.heraldWide(),
    clock,
    onStoreError: (error) => metrics.storeFailed(error, 'scrape'),
  });
}
