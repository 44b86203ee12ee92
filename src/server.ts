import type { FastifyInstance } from 'fastify';
import type { HeraldConfig } from './config/config.js';
import { loadOrCreateDevSecret } from './config/dev-secret.js';
import { PolicyFile } from './config/policy-file.js';
import { scopesOnly } from './domain/policy.js';
import { Dispatcher } from './delivery/dispatcher.js';
import { healthAnnouncer } from './delivery/health-announcer.js';
import { PullMaintenance } from './delivery/pull-maintenance.js';
import { Replayer } from './delivery/replayer.js';
import { Retention } from './delivery/retention.js';
import { SubscriptionRegistry } from './delivery/subscription-registry.js';
import { WebhookSender } from './delivery/webhook-sender.js';
import { buildApp, overviewSamplerFor } from './http/app.js';
import { HeraldMetrics } from './observability/herald-metrics.js';
import { WorkerGroupMetrics } from './observability/group-metrics-worker.js';
import { startTracing, type Tracing } from './observability/tracing/tracing.js';
import { createTokenVerifier, type VerificationKey } from './http/auth/token-verifier.js';
import { GroupCommitAppender } from './store/group-commit.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly store: Store;
  /** The address it listens on, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Stops accepting, finishes in-flight publishes, closes the store. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  /**
   * Set in a `herald serve --workers` worker: its place in the group (1..size). `/metrics` then answers for
   * the whole group, through the primary.
   */
  readonly workerGroup?: { readonly slot: number; readonly size: number } | undefined;
}

/**
 * How long stopping waits for the last spans to be exported. A collector that is down must not hold the
 * shutdown up (an orchestrator's grace period is often 30 s, and the attempts in flight come first).
 */
const tracingFlushMs = 5_000;

/** Opens the store, builds the app and listens. */
export async function startServer(config: HeraldConfig, options: ServerOptions = {}): Promise<RunningServer> {
  // Read first: an unreadable or invalid policy stops Herald before it opens anything.
  // Until the app's logger exists, a bad change to the policy file is reported on stderr.
  let reportPolicyProblem = (error: Error): void => {
    process.stderr.write(`${error.message}\n`);
  };
  const policy = config.policyPath ? new PolicyFile(config.policyPath, (error) => reportPolicyProblem(error)) : undefined;
  const authorizer = policy?.authorizer ?? scopesOnly;
  const store = await openStore(config.database, { poolSize: config.databasePoolSize, sqliteReaders: config.sqliteReaders });
  const registry = new SubscriptionRegistry(store);
  const sender = new WebhookSender({
    timeoutMs: config.delivery.timeoutMs,
    allowPrivateAddresses: config.delivery.allowPrivateEndpoints,
  });
  let dispatcher: Dispatcher | undefined;
  let replayer: Replayer | undefined;
  let tracing: Tracing | undefined;
  try {
    await registry.start();
    // The OpenTelemetry SDK is loaded only here, and only when an OTLP endpoint is configured.
    tracing = await startTracing(config.tracing);
    const key = verificationKey(config);
    // One set of metrics for the app and the dispatcher, so /metrics shows deliveries too.
    const metrics = new HeraldMetrics();
    const group = options.workerGroup && new WorkerGroupMetrics({ metrics, store, ...options.workerGroup });
    group?.listen();
    // Herald's overview for the console, sampled in this process (docs/observability.md): a worker samples
    // the group's counts, so any worker answers with the group's rates.
    const overview = overviewSamplerFor(store, metrics, { readCounts: group && (() => group.groupCounts()) });
    const app = await buildApp({
      store,
      verifier: createTokenVerifier({ key, issuer: config.jwt.issuer, audience: config.jwt.audience }),
      baseUrl: config.baseUrl,
      limits: config.limits,
      logger: { level: config.logLevel },
      pullInactivityMs: config.delivery.subscriptionInactivityMs,
      metrics,
      metricsToken: config.metricsToken,
      overview,
      corsOrigins: config.corsOrigins,
      console: config.console ? {} : false,
      renderMetrics: group && ((now) => group.render(now)),
      authorizer,
      rateLimits: config.rateLimits,
      streams: {
        heartbeatMs: config.streams.heartbeatMs,
        limits: { perConsumer: config.streams.perConsumer, perProcess: config.streams.perProcess },
      },
      tracing,
      delivery: {
        registry,
        wake: () => dispatcher?.wake(),
        claim: () => dispatcher?.claim(),
        allowPrivateEndpoints: config.delivery.allowPrivateEndpoints,
        sender,
      },
      replays: { wake: () => replayer?.wake(), limits: { examinedRows: config.limits.replayExamineRows } },
    });
    if (config.jwt.keys.kind === 'development') {
      app.log.warn(
        { secretFile: `${config.dataDir}/dev-jwt-secret` },
        'No JWT key configured: using a development secret from the data folder. Mint tokens with `npx herald token`. ' +
          'Set HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY or HERALD_JWKS_URL in production.',
      );
    }
    if (policy) {
      reportPolicyProblem = (error) => {
        app.log.error({ err: error }, 'the changed policy file is not valid: the last valid policy stays in force');
      };
      policy.start();
      app.log.info({ policy: config.policyPath }, 'authorization policy in force; the file is re-read when it changes');
    } else {
      app.log.warn(
        'NO AUTHORIZATION POLICY (HERALD_POLICY unset): scopes alone decide. Any token with ' +
          'altinn:events.publish may publish to any resource, and any with altinn:events.subscribe may read every event.',
      );
    }
    if (config.tracing) {
      app.log.info({ serviceName: config.tracing.serviceName }, 'tracing: spans are exported over OTLP/HTTP');
    }
    if (config.delivery.allowPrivateEndpoints) {
      app.log.warn('HERALD_ALLOW_PRIVATE_ENDPOINTS is on: webhooks may target http and private addresses.');
    }
    const url = await app.listen({ port: config.port, host: config.host });
    const announcements = new GroupCommitAppender(store, registry.match, undefined, () => dispatcher?.claim(), {
      deliveries: config.limits.commitDeliveryRows,
    });
    const running = new Dispatcher({
      store,
      registry,
      sender,
      budgets: config.delivery.budgets,
      health: config.delivery.health,
      announceHealth: healthAnnouncer(announcements, () => config.baseUrl ?? url),
      schedule: config.delivery.schedule,
      timeoutMs: config.delivery.timeoutMs,
      leaseMarginMs: config.delivery.leaseMarginMs,
      baseUrl: config.baseUrl ?? url,
      onError: (error, context) => {
        metrics.storeFailed(error, 'delivery');
        app.log.error({ err: error, context }, 'delivery failed');
      },
      authorizer,
      metrics,
      tracing,
    });
    dispatcher = running;
    running.start();
    const maintenance = new PullMaintenance({
      store,
      inactivityMs: config.delivery.subscriptionInactivityMs,
      onError: (error) => {
        metrics.storeFailed(error, 'maintenance');
        app.log.error({ err: error }, 'pull subscription maintenance failed');
      },
    });
    maintenance.start();
    const retention = new Retention({
      store,
      eventsMs: config.retention.eventsMs,
      deliveriesMs: config.retention.deliveriesMs,
      onError: (error) => app.log.error({ err: error }, 'retention failed; the next round tries again'),
    });
    retention.start();
    const replays = new Replayer({
      store,
      authorizer,
      keepFinishedMs: config.retention.deliveriesMs,
      onEnqueued: (deliveries) => metrics.replayed(deliveries),
      onError: (error) => {
        metrics.storeFailed(error, 'maintenance');
        app.log.error({ err: error }, 'a replay could not move on; the next round tries again');
      },
    });
    replayer = replays;
    replays.start();
    overview.start();
    app.log.info({ engine: store.engine, database: describeDatabase(config.database) }, 'Herald is serving');
    return {
      app,
      store,
      url,
      async stop() {
        // Stop taking requests first, then let in-flight attempts record their outcomes.
        await app.close();
        await overview.stop();
        policy?.stop();
        await maintenance.stop();
        await retention.stop();
        await replays.stop();
        await running.stop();
        await announcements.drain();
        await sender.close();
        // Every span has ended by now (the last attempts were recorded): the rest are exported, in bounded time.
        await tracing?.shutdown(tracingFlushMs);
        registry.stop();
        group?.stop();
        await store.close();
      },
    };
  } catch (error) {
    policy?.stop();
    registry.stop();
    await sender.close();
    await tracing?.shutdown(tracingFlushMs);
    await store.close();
    throw error;
  }
}

/** The key that verifies tokens; without one configured, the development secret (created if need be). */
export function verificationKey(config: HeraldConfig): VerificationKey {
  const keys = config.jwt.keys;
  if (keys.kind !== 'development') return keys;
  return { kind: 'secret', secret: loadOrCreateDevSecret(config.dataDir).secret };
}

/** The database without its password, for logs. */
function describeDatabase(database: string): string {
  return database.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
