/**
 * The daemon (`npm start`): the shared services of `createApp`, plus the workers, the sweep
 * schedule, the change listener and the HTTP server, each registered for release as it starts.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

import type { Worker } from 'bullmq';

import { type App, type AppOptions, createApp } from './app.js';
import type { Config } from './config.js';
import { consolePlugin } from './console/plugin.js';
import { dashboardPlugin } from './dashboard.js';
import { createLoginLimiter } from './http/loginLimit.js';
import { staleNotifyTriggers } from './db/notifyTriggers.js';
import { createHttpServer } from './http/server.js';
import { MINUTE, SECOND } from './lib/duration.js';
import { toError } from './lib/errors.js';
import { connectRedis, mastersOf } from './lib/redisClient.js';
import { fleetCounts } from './sql/fleet.js';
import { readDatabaseGauges } from './sql/gauges.js';
import { countRegionMismatches } from './sql/regions.js';
import { closeWorkers } from './sync/closeWorkers.js';
import { listenForChanges } from './sync/notifications.js';
import { runRetention } from './sync/retention.js';
import { assertSweepSchedule } from './sync/queues.js';
import { createDueWorker, createSweepWorker } from './sync/sweepWorker.js';
import { createSyncWorker } from './sync/worker.js';
import {
  ENQUEUE_BOUND_MS,
  pruneWebhookEvents,
  WEBHOOK_EVENT_RETENTION_MS,
} from './webhooks/ingest.js';
import { REQUEUE_EVERY_MS, webhookRequeuer } from './webhooks/requeue.js';

/** A running daemon: workers, schedule, change listener and HTTP server. */
export interface Daemon extends AsyncDisposable {
  readonly app: App;
  /** The HTTP server's address, `http://host:port`. */
  readonly url: string;
  /** Resolves once every direct write to the table committed before the call has been queued. */
  directWritesQueued(): Promise<void>;
  /** Stops taking jobs, finishes in-flight ones (bounded), closes everything in reverse order. */
  close(): Promise<void>;
}

export async function startDaemon(config: Config, options: AppOptions = {}): Promise<Daemon> {
  // Tracing on: the SDK is loaded now and only now; off, nothing of it is ever imported.
  const tracing = config.otlpTracesUrl
    ? (await import('./tracing/sdk.js')).startTracing(config.otlpTracesUrl, options.traceExporter)
    : undefined;
  const app = createApp(config, { ...options, ...(tracing ? { tracing } : {}) });
  const { logger, releasers, metrics, queues, clock } = app;
  try {
    // A user's source that is missing or misshapen stops the daemon with one line, not each job.
    await app.source.relation(app.pool);
    await warnUnlessNoEviction(app);
    await warnOfStaleTriggers(app, config);
    // WORKER_CONCURRENCY=0: a receiver. It takes webhooks, listens for table changes and keeps
    // the schedule, and leaves every job to the daemons that run workers.
    const workersReady = config.workerConcurrency > 0 ? startWorkers(app, config) : async () => {};
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

    metrics.setPauseSource(() => app.rateLimiter.pausedUntil());
    connectScrapeGauges(app, config, () => readiness(app, workersReady));

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
    const prune = () => {
      void pruneWebhookEvents(app.pool, new Date(clock.now() - WEBHOOK_EVENT_RETENTION_MS)).catch(
        () => {},
      );
      const retention = { pool: app.pool, clock, logger, retentionMs: config.retentionMs };
      void runRetention(retention).catch((e: unknown) =>
        logger.warn({ err: toError(e).message }, 'retention job failed; the next hour retries'),
      );
    };
    prune();
    const pruneTimer = setInterval(prune, 60 * MINUTE);
    // Webhook events whose sync was not queued (Redis hung or down): queued again by every daemon.
    const requeue = webhookRequeuer({ pool: app.pool, syncQueue: app.syncQueue, clock, logger });
    const requeueTimer = setInterval(() => void requeue(), REQUEUE_EVERY_MS);
    releasers.add('timers', () => {
      clearInterval(reassertTimer);
      clearInterval(pruneTimer);
      clearInterval(requeueTimer);
    });

    // Direct writes the listener could not queue one by one (a burst past its bound) or never
    // heard (its connection was down): one sweep finds them all. The job id makes it one per
    // minute across every daemon, however long the burst or the outage lasts.
    const catchUpSweep = async () => {
      const jobId = `overflow-${Math.floor(clock.now() / MINUTE)}`;
      await queues.sweep.add('sweep', { trigger: 'overflow', sweepId: randomUUID() }, { jobId });
    };
    const listener = listenForChanges({
      databaseUrl: config.databaseUrl,
      syncQueue: app.syncQueue,
      logger,
      onOverflow: catchUpSweep,
      onMissed: catchUpSweep,
    });
    releasers.add('change listener', () => listener.close());
    // Started means listening: a direct write from now on reaches a sync (bounded wait; the
    // listener keeps retrying, and the sweep is the backstop).
    await Promise.race([listener.ready, delay(5 * SECOND, undefined, { ref: false })]);
    if (!listener.listening)
      logger.warn('change listener not connected yet; retrying in the background');

    const http = createHttpServer({
      config,
      logger,
      pool: app.pool,
      syncQueue: app.syncQueue,
      metrics,
      clock,
      readiness: { check: () => readiness(app, workersReady) },
      traced: tracing !== undefined,
      plugins: config.dashboardToken ? operatorPages(app, config.dashboardToken) : [],
    });
    const url = await http.listen();
    releasers.add('http server', () => http.close());
    logger.info(
      {
        url,
        prefix: config.queuePrefix,
        sweepEvery: config.sweepEveryMs,
        workers: config.workerConcurrency,
      },
      'customer-sync daemon started',
    );
    return {
      app,
      url,
      directWritesQueued: () => listener.settled(),
      close: () => app.close(),
      [Symbol.asyncDispose]: () => app.close(),
    };
  } catch (error) {
    await app.close();
    throw error;
  }
}

/** The console and the queue dashboard, behind one login with one count of failed logins. */
function operatorPages(app: App, token: string) {
  const logins = createLoginLimiter(app.clock);
  return [
    dashboardPlugin(app.queues, { token, logins }),
    consolePlugin(app, { token, logins, windowMs: app.config.sweepEveryMs }),
  ];
}

/**
 * Starts the sync, sweep and due workers on a connection of their own (which must retry forever:
 * BullMQ's requirement), registered for release; returns the check that they are consuming.
 */
function startWorkers(app: App, config: Config): () => Promise<void> {
  const { logger, releasers, metrics, queues, clock } = app;
  const workerRedis = connectRedis(config.redisUrl, { maxRetriesPerRequest: null });
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
    ...(app.tracing ? { telemetry: app.tracing.telemetry } : {}),
  });
  const sweepWorker = createSweepWorker({
    connection: workerRedis,
    prefix: config.queuePrefix,
    deps: app.sweepDeps(),
    logger,
    onSwept: (report, ms) => metrics.recordSweep(report, ms),
    onFailed: () => metrics.sweeps.inc({ outcome: 'failed' }),
    jitterMs: Math.min(config.sweepEveryMs * 0.05, 30 * SECOND),
    lockDurationMs: config.lockDurationMs,
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
  releasers.add('workers', () =>
    closeWorkers(workers, config.shutdownTimeoutMs, logger, () => workerRedis.disconnect()),
  );
  return async () => {
    if (!syncWorker.isRunning() || syncWorker.isPaused()) throw new Error('not consuming');
    // A worker stuck reconnecting after an outage is not consuming.
    if (workerRedis.status !== 'ready') throw new Error('worker connection not ready');
    await workerRedis.ping();
  };
}

/**
 * Ready: Postgres and Redis answer, and this daemon's workers (if it runs any) consume on a
 * connected Redis.
 */
async function readiness(
  app: App,
  workersReady: () => Promise<void>,
): Promise<{ postgres: boolean; redis: boolean; workers: boolean }> {
  const within = <T>(p: Promise<T>) =>
    Promise.race([
      p.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 2 * SECOND)),
    ]).catch(() => false);
  const [postgres, redis, workers] = await Promise.all([
    within(app.pool.query('select 1')),
    within(app.redis.ping()),
    within(workersReady()),
  ]);
  return { postgres, redis, workers };
}

/**
 * The gauges read at scrape time: readiness, the sync jobs waiting per lane (the person lane is
 * BullMQ's wait list, the backfills its prioritized set: queues.ts), what Postgres says of the
 * fleet, and the settings alerts compare with.
 */
function connectScrapeGauges(
  app: App,
  config: Config,
  ready: () => Promise<{ postgres: boolean; redis: boolean; workers: boolean }>,
): void {
  const { metrics, queues } = app;
  metrics.setScrapeSources({
    ready: async () => Object.values(await ready()).every(Boolean),
    lanes: async () => {
      const counts = await queues.sync.getJobCounts('waiting', 'prioritized');
      return { person: counts.waiting ?? 0, backfill: counts.prioritized ?? 0 };
    },
    database: () => readDatabaseGauges(app.pool, 2 * ENQUEUE_BOUND_MS),
    fleet: () => fleetCounts(app.pool, app.source),
    regionMismatches: () => countRegionMismatches(app.pool, app.source, config.defaultRegion),
  });
  metrics.setSettings({
    sweepEveryMs: config.sweepEveryMs,
    apiRatePerSecond: (config.apiRateLimit.max * SECOND) / config.apiRateLimit.perMs,
    workerConcurrency: config.workerConcurrency,
  });
}

/**
 * A change trigger that `migrate` would install differently now (the view reads other columns
 * since it ran): an update of a column it does not compare waits for the next sweep. Said once,
 * at start; a table that cannot be checked is said too, and stops nothing.
 */
async function warnOfStaleTriggers(app: App, config: Config): Promise<void> {
  const tables = config.customersNotifyTables;
  try {
    const stale = await staleNotifyTriggers(app.pool, tables, config.customersSource);
    if (stale.length === 0) return;
    app.logger.warn(
      { tables: stale },
      'the change trigger on these tables is missing or out of date (the source reads other columns now): run migrate, or some direct writes wait for the next sweep',
    );
  } catch (error) {
    app.logger.warn({ err: toError(error).message }, 'could not check the change triggers');
  }
}

/**
 * BullMQ keeps jobs only in Redis: an evicting Redis silently drops them. On a cluster every
 * master is asked (each evicts on its own); one that cannot be asked is skipped.
 */
async function warnUnlessNoEviction(app: App): Promise<void> {
  const masters = await mastersOf(app.redis).catch(() => []);
  const policies = await Promise.all(
    masters.map(async (node) => {
      try {
        const reply = (await node.config('GET', 'maxmemory-policy')) as string[];
        return reply[1];
      } catch {
        // CONFIG may be disabled (managed Redis, and most managed clusters); nothing to check.
        return undefined;
      }
    }),
  );
  policies.forEach((policy, i) => {
    if (!policy || policy === 'noeviction') return;
    const node = masters[i]?.options;
    app.logger.warn(
      { policy, ...(masters.length > 1 ? { node: `${node?.host}:${node?.port}` } : {}) },
      `Redis maxmemory-policy is ${policy}: set it to noeviction, or queued syncs may be evicted`,
    );
  });
}
