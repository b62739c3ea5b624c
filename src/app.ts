/**
 * The composition root: the one place that builds config → logger → Postgres → Redis → queues →
 * Agent Engine client → services → workers → HTTP, and registers each resource's close as it goes
 * (released in reverse order, once). The daemon (`daemon.ts`), the CLI, the demo and the tests all
 * start here.
 */
import type pg from 'pg';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Dispatcher } from 'undici';

import { createAgentEngine } from './agent-engine/client.js';
import { type RateLimiter, RedisRateLimiter } from './agent-engine/rate-limiter.js';
import type { AgentEngine } from './agent-engine/types.js';
import { type Config, requireCredentials, secretsOf } from './config.js';
import type { SyncQueue } from './core/ports.js';
import type { Policy } from './core/planner.js';
import { createPool } from './db/pool.js';
import { type Clock, systemClock } from './lib/clock.js';
import { createLogger, type Logger } from './lib/logger.js';
import { connectRedis, type RedisClient } from './lib/redisClient.js';
import { Releasers } from './lib/releasers.js';
import { type CustomerSource, customerSource } from './sql/source.js';
import { createMetrics, type Metrics } from './metrics.js';
import { Breaker, type BreakerOptions } from './sync/breaker.js';
import { createQueues, type Queues, remindAt, syncQueueOf } from './sync/queues.js';
import type { SweepDeps } from './sync/sweep.js';
import type { SyncDeps } from './sync/syncSubject.js';
import type { Tracing } from './tracing/sdk.js';

/** What tests and the demo may swap; production uses the defaults. */
export interface AppOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** undici dispatcher for Agent Engine calls (a test's MockAgent, or a tuned pool). */
  readonly dispatcher?: Dispatcher;
  readonly breaker?: BreakerOptions;
  /** Tracing, when on: started by the daemon (the SDK is loaded only then), stopped last. */
  readonly tracing?: Tracing;
  /** Where spans go instead of OTLP when tracing is on (tests: an in-memory exporter). */
  readonly traceExporter?: SpanExporter;
}

/** The shared services every entry point needs. */
export interface App extends AsyncDisposable {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly pool: pg.Pool;
  /** One server or a Redis Cluster, as `REDIS_URL` says. */
  readonly redis: RedisClient;
  readonly queues: Queues;
  readonly syncQueue: SyncQueue;
  readonly metrics: Metrics;
  readonly breaker: Breaker;
  /** The API rate limit every daemon shares, with the pause a 429 imposes on all of them. */
  readonly rateLimiter: RateLimiter;
  readonly policy: Policy;
  /** Where customers are read from (`CUSTOMERS_SOURCE`). */
  readonly source: CustomerSource;
  /** Set while tracing is on. */
  readonly tracing: Tracing | undefined;
  /** The Agent Engine client; throws a ConfigError when credentials are missing. */
  engine(): AgentEngine;
  sweepDeps(): SweepDeps;
  syncDeps(): SyncDeps;
  readonly releasers: Releasers;
  close(): Promise<void>;
}

export function policyOf(config: Config): Policy {
  return {
    nameTemplate: config.workspaceNameTemplate,
    deleteGraceMs: config.deleteGraceMs,
    maxDestructivePerSweep: config.maxDestructivePerSweep,
    maxDestructiveShare: config.maxDestructiveShare,
    orphans: config.orphans,
  };
}

export function createApp(config: Config, options: AppOptions = {}): App {
  const releasers = new Releasers();
  const { tracing } = options;
  // Registered first, so released last: the spans of everything else's shutdown are exported.
  if (tracing) releasers.add('tracing', () => tracing.shutdown());
  const clock = options.clock ?? systemClock;
  const secrets = secretsOf(config);
  const logger = options.logger ?? createLogger({ level: config.logLevel, secrets });
  const pool = createPool(config.databaseUrl, { max: 20, traceQueries: !!tracing });
  releasers.add('postgres pool', () => pool.end());
  // Commands fail fast while Redis is down (a webhook still answers; the sweep finds the rest).
  const redis = connectRedis(config.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
  redis.on('error', () => {});
  releasers.add('redis', () => void redis.disconnect());
  const queues = createQueues(redis, config.queuePrefix, tracing?.telemetry);
  releasers.add('queues', () => queues.close());
  const retry = { attempts: config.syncAttempts, backoffMs: config.syncBackoffMs };
  const syncQueue = syncQueueOf(queues.sync, retry, redis);
  const metrics = createMetrics();
  const breaker = new Breaker(redis, config.queuePrefix, options.breaker);
  const policy = policyOf(config);
  const source = customerSource(config.customersSource);
  const rateLimiter = new RedisRateLimiter(
    redis,
    `${config.queuePrefix}:api-rate`,
    config.apiRateLimit,
  );

  let engine: AgentEngine | undefined;
  const getEngine = (): AgentEngine => {
    if (engine) return engine;
    const { clientId, clientSecret } = requireCredentials(config);
    const built = createAgentEngine({
      baseUrl: config.agentEngineUrl,
      clientId,
      clientSecret,
      ...(config.organizationId ? { organizationId: config.organizationId } : {}),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      clock,
      refreshSkewMs: config.tokenRefreshSkewMs,
      requestTimeoutMs: config.requestTimeoutMs,
      logger: logger.child({ component: 'agent-engine' }),
      observer: metrics.observer,
      rateLimiter,
      retryAfterCapMs: config.maxRetryAfterMs,
    });
    releasers.add('agent engine client', () => built.close?.());
    engine = built;
    return built;
  };
  const app: App = {
    config,
    logger,
    clock,
    pool,
    redis,
    queues,
    syncQueue,
    metrics,
    breaker,
    rateLimiter,
    policy,
    source,
    tracing,
    releasers,
    engine: getEngine,
    sweepDeps: () => ({
      pool,
      source,
      engine: getEngine(),
      policy,
      clock,
      logger,
      syncQueue,
      lockDurationMs: config.lockDurationMs,
    }),
    syncDeps: () => ({
      pool,
      source,
      engine: getEngine(),
      policy,
      defaultRegion: config.defaultRegion,
      destructiveWindowMs: config.sweepEveryMs,
      clock,
      recheckAt: (subject, at, now) => remindAt(queues.due, subject, at, now),
    }),
    close: async () => {
      const errors = await releasers.release();
      for (const error of errors) logger.warn({ err: error.message }, 'while closing');
    },
    [Symbol.asyncDispose]: () => app.close(),
  };
  return app;
}
