/** Workers for the sweep queue (one sweep at a time) and the due-reminder queue. */
import { setTimeout as delay } from 'node:timers/promises';

import { type Job, Worker } from 'bullmq';

import type { RedisClient } from '../lib/redisClient.js';
import type { SyncQueue } from '../core/ports.js';
import { ACTIONS } from '../core/types.js';
import type { Logger } from '../lib/logger.js';
import { inSpan } from '../tracing/spans.js';
import { DUE_QUEUE, type DueJobData, SWEEP_QUEUE, type SweepJobData, sweepIdOf } from './queues.js';
import { runSweep, type SweepDeps, type SweepProgress, type SweepReport } from './sweep.js';

export function createSweepWorker(options: {
  connection: RedisClient;
  prefix: string;
  deps: SweepDeps;
  logger: Logger;
  onSwept?: (report: SweepReport, ms: number) => void;
  onFailed?: () => void;
  /**
   * A scheduled sweep waits a random time up to this before it starts, so deployments that share
   * an Agent Engine organization do not all list it at the same instant. Manual sweeps never wait.
   */
  jitterMs?: number;
  /** A stopped or killed daemon's sweep job is retaken after this (LOCK_DURATION). */
  lockDurationMs?: number;
}): Worker<SweepJobData, SweepReport> {
  const { deps, logger } = options;
  const worker = new Worker<SweepJobData, SweepReport>(
    SWEEP_QUEUE,
    async (job: Job<SweepJobData>, _token?: string, signal?: AbortSignal) => {
      if (job.data.trigger === 'schedule' && options.jitterMs) {
        await delay(
          Math.floor(Math.random() * options.jitterMs),
          undefined,
          signal ? { signal } : {},
        );
      }
      const started = deps.clock.now();
      let lastReport = 0;
      let lastPhase = 0;
      const id = sweepIdOf(job);
      let last: SweepProgress | undefined;
      // A trace of its own (tracing on): the syncs it queues join it, the trigger's trace does not.
      const attributes = { 'sweep.id': id, 'sweep.trigger': job.data.trigger };
      const report = await inSpan('sweep', { root: true, attributes }, async (span) => {
        const report = await runSweep(deps, {
          id,
          trigger: job.data.trigger,
          ...(signal ? { signal } : {}),
          onProgress: (progress) => {
            last = progress;
            // Progress goes to Redis at most every 250 ms, for `sweep --wait`, and at once when a
            // phase begins (planning after listing, queueing after planning).
            const now = Date.now();
            const phase = progress.queued > 0 ? 2 : progress.customers > 0 ? 1 : 0;
            const newPhase = phase !== lastPhase;
            lastPhase = phase;
            if (!newPhase && now - lastReport < 250) return;
            lastReport = now;
            void job.updateProgress({ ...progress }).catch(() => {});
          },
        });
        span.setAttributes(sweepAttributes(report, last));
        return report;
      });
      await job.updateProgress({ done: true }).catch(() => {});
      options.onSwept?.(report, deps.clock.now() - started);
      return report;
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.lockDurationMs ?? 30_000,
      autorun: false,
    },
  );
  worker.on('error', (error) => logger.warn({ err: error }, 'sweep worker error'));
  worker.on('failed', (job, error) => {
    logger.error({ err: error, jobId: job?.id }, 'sweep failed');
    options.onFailed?.();
  });
  return worker;
}

/** A sweep's span attributes: pages listed, changes planned and queued, and every count. */
function sweepAttributes(report: SweepReport, progress: SweepProgress | undefined) {
  const counts = Object.fromEntries(
    Object.entries(report.counts).map(([name, n]) => [`sweep.count.${name}`, n]),
  );
  return {
    ...counts,
    'sweep.pages': report.counts.pages ?? progress?.pages ?? 0,
    // Every change planned, orphans' included (the progress counts customers' only).
    'sweep.changes': ACTIONS.reduce((sum, action) => sum + (report.counts[action] ?? 0), 0),
    'sweep.queued': progress?.queued ?? 0,
    'sweep.skipped': report.skipped,
    'sweep.held': report.held,
    'sweep.listing_complete': report.listingComplete,
  };
}

export function createDueWorker(options: {
  connection: RedisClient;
  prefix: string;
  syncQueue: SyncQueue;
  logger: Logger;
}): Worker<DueJobData> {
  const worker = new Worker<DueJobData>(
    DUE_QUEUE,
    async (job) => {
      await options.syncQueue.enqueue([job.data.subject], 'due');
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 4, autorun: false },
  );
  worker.on('error', (error) => options.logger.warn({ err: error }, 'due worker error'));
  return worker;
}
