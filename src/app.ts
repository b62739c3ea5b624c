/**
 * The composition root: the one place that builds config → logger → Postgres → Redis → queues →
 * Agent Engine client → services → workers → HTTP, and registers each resource's close as it goes
 * (released in reverse order, once). The daemon, the CLI, the demo and the tests all start here.
 */
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { Dispatcher } from 'undici';

import { createAgentEngine } from './agent-engine/client.js';
import { RedisRateLimiter } from './agent-engine/rate-limiter.js';
import type { RetryOptions } from './agent-engine/retry.js';
import type { AgentEngine } from './agent-engine/types.js';
import { type Config, requireCredentials, secretsOf } from './config.js';
import type { SyncQueue } from './core/ports.js';
import type { Policy } from './core/planner.js';
import { dashboardPlugin } from './dashboard.js';
import { createDb, type Db } from './db/pool.js';
import { createHttpServer } from './http/server.js';
import { type Clock, systemClock } from './lib/clock.js';
import { MINUTE, SECOND } from './lib/duration.js';
import { toError } from './lib/errors.js';
import { createLogger, type Logger } from './lib/logger.js';
import { Releasers } from './lib/releasers.js';
import { createMetrics, type Metrics } from './metrics.js';
import { Breaker, type BreakerOptions } from './sync/breaker.js';
import type { DestructiveLimits } from './sync/destructive.js';
import { listenForChanges } from './sync/notifications.js';
import {
  assertSweepSchedule,
  createQueues,
  type Queues,
  remindAt,
  syncQueueOf,
} from './sync/queues.js';
import type { SweepDeps } from './sync/sweep.js';
import { createDueWorker, createSweepWorker } from './sync/sweepWorker.js';
import type { SyncDeps } from './sync/syncSubject.js';
import { createSyncWorker } from './sync/worker.js';
import { pruneWebhookEvents, WEBHOOK_EVENT_RETENTION_MS } from './webhooks/ingest.js';

/** What tests and the demo may swap; production uses the defaults. */
export interface AppOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** undici dispatcher for Agent Engine calls (a test's MockAgent, or a tuned pool). */
  readonly dispatcher?: Dispatcher;
  readonly breaker?: BreakerOptions;
  /** The client's in-call retry policy (defaults in src/agent-engine/retry.ts). */
  readonly clientRetry?: Partial<RetryOptions>;
}

/** The shared services every entry point needs. */
export interface App extends AsyncDisposable {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly pool: pg.Pool;
  readonly db: Db;
  readonly redis: Redis;
  readonly queues: Queues;
  readonly syncQueue: SyncQueue;
  readonly metrics: Metrics;
  readonly breaker: Breaker;
  readonly policy: Policy;
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
  const clock = options.clock ?? systemClock;
  const secrets = secretsOf(config);
  const logger = options.logger ?? createLogger({ level: config.logLevel, secrets });
  const { pool, db } = createDb(config.databaseUrl, { max: 20 });
  releasers.add('postgres pool', () => pool.end());
  // Commands fail fast while Redis is down (a webhook still answers; the sweep finds the rest).
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
  redis.on('error', () => {});
  releasers.add('redis', () => void redis.disconnect());
  const queues = createQueues(redis, config.queuePrefix);
  releasers.add('queues', () => queues.close());
  const retry = { attempts: config.syncAttempts, backoffMs: config.syncBackoffMs };
  const syncQueue = syncQueueOf(queues.sync, retry);
  const metrics = createMetrics();
  const breaker = new Breaker(redis, config.queuePrefix, options.breaker);
  const policy = policyOf(config);

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
      rateLimiter: new RedisRateLimiter(
        redis,
        `${config.queuePrefix}:api-rate`,
        config.apiRateLimit,
      ),
    });
    releasers.add('agent engine client', () => built.close?.());
    engine = built;
    return built;
  };
  const limits: DestructiveLimits = {
    maxDestructivePerSweep: config.maxDestructivePerSweep,
    maxDestructiveShare: config.maxDestructiveShare,
    windowMs: config.sweepEveryMs,
  };
  const app: App = {
    config,
    logger,
    clock,
    pool,
    db,
    redis,
    queues,
    syncQueue,
    metrics,
    breaker,
    policy,
    releasers,
    engine: getEngine,
    sweepDeps: () => ({ pool, engine: getEngine(), policy, clock, logger, syncQueue }),
    syncDeps: () => ({
      pool,
      engine: getEngine(),
      policy,
      limits,
      clock,
      recheckAt: (subject, at) => remindAt(queues.due, subject, at, clock.now()),
    }),
    close: async () => {
      const errors = await releasers.release();
      for (const error of errors) logger.warn({ err: error.message }, 'while closing');
    },
    [Symbol.asyncDispose]: () => app.close(),
  };
  return app;
}

/** A running daemon: workers, schedule, change listener and HTTP server. */
export interface Daemon extends AsyncDisposable {
  readonly app: App;
  /** The HTTP server's address, `http://host:port`. */
  readonly url: string;
  /** Stops taking jobs, finishes in-flight ones (bounded), closes everything in reverse order. */
  close(): Promise<void>;
}

export async function startDaemon(config: Config, options: AppOptions = {}): Promise<Daemon> {
  const app = createApp(config, options);
  const { logger, releasers, metrics, queues, clock } = app;
  try {
    await warnUnlessNoEviction(app);
    // Workers get their own connection, which must retry forever (BullMQ's requirement).
    const workerRedis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
    workerRedis.on('error', () => {});
    releasers.add('worker redis', () => void workerRedis.disconnect());

    const syncWorker = createSyncWorker({
      connection: workerRedis,
      prefix: config.queuePrefix,
      queue: queues.sync,
      concurrency: config.workerConcurrency,
      deps: app.syncDeps(),
      breaker: app.breaker,
      logger,
      clock,
      lockDurationMs: config.lockDurationMs,
      events: metrics.syncEvents,
    });
    const sweepWorker = createSweepWorker({
      connection: workerRedis,
      prefix: config.queuePrefix,
      deps: app.sweepDeps(),
      logger,
      onSwept: (report, ms) => metrics.recordSweep(report, ms),
      onFailed: () => metrics.sweeps.inc({ outcome: 'failed' }),
      jitterMs: Math.min(config.sweepEveryMs * 0.05, 30 * SECOND),
    });
    const dueWorker = createDueWorker({
      connection: workerRedis,
      prefix: config.queuePrefix,
      syncQueue: app.syncQueue,
      logger,
    });
    const workers: Worker[] = [syncWorker, sweepWorker, dueWorker];
    for (const worker of workers)
      void worker
        .run()
        .catch((e: unknown) => logger.error({ err: toError(e).message }, 'worker stopped'));
    releasers.add('workers', () => closeWorkers(workers, config.shutdownTimeoutMs, logger));
    metrics.setQueueDepthSource(() =>
      queues.sync.getJobCounts(
        'active',
        'waiting',
        'delayed',
        'failed',
        'completed',
        'prioritized',
      ),
    );

    // The schedule: asserted now and again periodically, so it heals after Redis loses its data.
    const reassert = async () => {
      try {
        await assertSweepSchedule(queues, config.sweepEveryMs);
        // The breaker lives in Redis: every daemon's gauge shows it, not only the opener's.
        metrics.breakerState.set((await app.breaker.state()).state === 'open' ? 1 : 0);
      } catch (e) {
        logger.warn({ err: toError(e).message }, 'could not assert the sweep schedule; will retry');
      }
    };
    await reassert();
    const reassertTimer = setInterval(() => void reassert(), Math.min(config.sweepEveryMs, MINUTE));
    const pruneTimer = setInterval(
      () =>
        void pruneWebhookEvents(app.db, new Date(clock.now() - WEBHOOK_EVENT_RETENTION_MS)).catch(
          () => {},
        ),
      60 * MINUTE,
    );
    releasers.add('timers', () => {
      clearInterval(reassertTimer);
      clearInterval(pruneTimer);
    });

    const listener = listenForChanges({
      databaseUrl: config.databaseUrl,
      syncQueue: app.syncQueue,
      logger,
    });
    releasers.add('change listener', () => listener.close());

    const http = createHttpServer({
      config,
      logger,
      db: app.db,
      syncQueue: app.syncQueue,
      metrics,
      clock,
      readiness: { check: () => readiness(app, syncWorker, workerRedis) },
      plugins: config.dashboardToken ? [dashboardPlugin(queues, config.dashboardToken)] : [],
    });
    const url = await http.listen();
    releasers.add('http server', () => http.close());
    logger.info(
      { url, prefix: config.queuePrefix, sweepEvery: config.sweepEveryMs },
      'customer-sync daemon started',
    );
    return { app, url, close: () => app.close(), [Symbol.asyncDispose]: () => app.close() };
  } catch (error) {
    await app.close();
    throw error;
  }
}

async function closeWorkers(workers: Worker[], timeoutMs: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const graceful = Promise.all(workers.map((w) => w.close()));
  const timeout = new Promise<'timeout'>(
    (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
  );
  const result = await Promise.race([graceful, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    logger.warn(
      { timeoutMs },
      'in-flight jobs did not finish in time; they will be retaken by another daemon',
    );
    await Promise.all(workers.map((w) => w.close(true)));
  }
}

/** Ready: Postgres and Redis answer, and this daemon's workers run on a connected Redis. */
async function readiness(
  app: App,
  worker: Worker,
  workerRedis: Redis,
): Promise<{ postgres: boolean; redis: boolean; workers: boolean }> {
  const within = <T>(p: Promise<T>) =>
    Promise.race([
      p.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 2 * SECOND)),
    ]).catch(() => false);
  const [postgres, redis, workers] = await Promise.all([
    within(app.pool.query('select 1')),
    within(app.redis.ping()),
    within(
      (async () => {
        if (!worker.isRunning() || worker.isPaused()) throw new Error('not consuming');
        // A worker stuck reconnecting after an outage is not consuming.
        if (workerRedis.status !== 'ready') throw new Error('worker connection not ready');
        await workerRedis.ping();
      })(),
    ),
  ]);
  return { postgres, redis, workers };
}

/** BullMQ keeps jobs only in Redis: an evicting Redis silently drops them. */
async function warnUnlessNoEviction(app: App): Promise<void> {
  try {
    const reply = (await app.redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy && policy !== 'noeviction') {
      app.logger.warn(
        { policy },
        `Redis maxmemory-policy is ${policy}: set it to noeviction, or queued syncs may be evicted`,
      );
    }
  } catch {
    // CONFIG may be disabled on managed Redis; nothing to check then.
  }
}
