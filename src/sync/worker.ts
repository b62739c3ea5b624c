/**
 * The job wrapper: the one place where failure types become BullMQ behaviour (HOUSE_STYLE §4).
 *
 * - retryable → rethrown: BullMQ retries with exponential backoff and jitter. A sync's calls
 *   do not retry in the call (`src/agent-engine/retry.ts`): these attempts are their only retries;
 * - a 429 with a Retry-After (capped at MAX_RETRY_AFTER) → the whole queue pauses for it
 *   (`queue.rateLimit`), and the job goes back to waiting without spending an attempt; the Agent
 *   Engine client has already paused every daemon's calls (the shared rate limiter). Another
 *   status's Retry-After (a 503's) is about that call: it spends an attempt like any failure;
 * - permanent → `UnrecoverableError`: no retry, recorded for `status`;
 * - auth (after a fresh token) → the breaker counts it; once open, the queue pauses and probes;
 * - anything retryable while Postgres does not answer → the queue pauses, no attempt is spent.
 *
 * Out of attempts or permanent, the failure is written to `sync_state` so it stays visible.
 */
import {
  type Job,
  type Queue,
  RateLimitError,
  type Telemetry,
  UnrecoverableError,
  Worker,
} from 'bullmq';

import type { RedisClient } from '../lib/redisClient.js';
import type { Clock } from '../lib/clock.js';
import { SECOND } from '../lib/duration.js';
import { AuthError, classify, RetryableError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { recordSync } from '../sql/syncState.js';
import { parseSubject } from '../core/subject.js';
import type { Breaker } from './breaker.js';
import { SYNC_QUEUE, type SyncJobData, takeReadFirst } from './queues.js';
import { type SyncDeps, type SyncResult, syncSubject } from './syncSubject.js';

/** What the wrapper reports, for metrics and tests. */
export interface SyncEvents {
  onSynced?(subject: string, result: SyncResult, ms: number): void;
  onFailed?(subject: string, kind: string, reason: string): void;
  onBreaker?(state: 'open' | 'closed', reason?: string): void;
}

export interface SyncWorkerOptions {
  readonly connection: RedisClient;
  readonly prefix: string;
  readonly queue: Queue<SyncJobData>;
  readonly concurrency: number;
  readonly deps: SyncDeps;
  readonly breaker: Breaker;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly lockDurationMs?: number;
  readonly events?: SyncEvents;
  /** Tracing on: each job runs in a span of the trace that queued it. */
  readonly telemetry?: Telemetry;
}

/** How long the queue waits before trying again while Postgres does not answer. */
const DATABASE_DOWN_PAUSE_MS = 2 * SECOND;

async function answers(pool: SyncDeps['pool']): Promise<boolean> {
  try {
    await pool.query('select 1');
    return true;
  } catch {
    return false;
  }
}

export function createSyncWorker(options: SyncWorkerOptions): Worker<SyncJobData, SyncResult> {
  const { deps, breaker, logger, clock, queue, events } = options;
  const processJob = async (job: Job<SyncJobData>, _token?: string, signal?: AbortSignal) => {
    const { subject, trigger } = job.data;
    const attempt = job.attemptsMade + 1;
    const log = logger.child({ jobId: job.id, customerId: subject, trigger, attempt });
    const admitted = await breaker.admit();
    if (!admitted.ok) {
      await queue.rateLimit(admitted.waitMs);
      throw new RateLimitError();
    }
    const started = clock.now();
    try {
      const readFirst = await takeReadFirst(options.connection, queue, job);
      const result = await syncSubject(deps, {
        subject: parseSubject(subject),
        trigger,
        ...(job.data.sweepId ? { sweepId: job.data.sweepId } : {}),
        ...(readFirst ? { readFirst } : {}),
        jobId: job.id ?? null,
        attempt,
        logger: log,
        ...(signal ? { signal } : {}),
      });
      // The newer sync that took over records the subject's outcome, not this stale one.
      if (result.superseded) return result;
      if (await breaker.recordSuccess(admitted.clean)) {
        log.warn('Agent Engine calls succeed again: breaker closed, syncs resume');
        events?.onBreaker?.('closed');
      }
      await recordSync(
        deps.pool,
        subject,
        new Date(clock.now()),
        result.held.length ? 'held' : 'ok',
        { attempts: attempt },
      );
      events?.onSynced?.(subject, result, clock.now() - started);
      return result;
    } catch (error) {
      throw await onFailure(job, classify(error), log);
    }
  };

  const onFailure = async (
    job: Job<SyncJobData>,
    failure: ReturnType<typeof classify>,
    log: Logger,
  ) => {
    const { subject } = job.data;
    const attempt = job.attemptsMade + 1;
    if (failure instanceof AuthError) {
      if (await breaker.recordAuthFailure(failure.message, clock.now())) {
        log.error(
          { reason: failure.message },
          'Agent Engine refuses our credentials even with a fresh token: breaker open, no changes will be made; probing every %ds',
          Math.round(breaker.probeEveryMs / 1000),
        );
        events?.onBreaker?.('open', failure.message);
      }
      const state = await breaker.state();
      if (state.state === 'open') {
        await queue.rateLimit(breaker.probeEveryMs);
        return new RateLimitError();
      }
    }
    // Postgres down (a restart, a failover): every sync fails the same way until it is back, so
    // no attempt is spent; the whole queue waits and tries again, however long the outage.
    if (failure.kind === 'retryable' && !(await answers(deps.pool))) {
      log.warn('Postgres unreachable: pausing the queue; the sync keeps its attempts');
      await queue.rateLimit(DATABASE_DOWN_PAUSE_MS);
      return new RateLimitError();
    }
    if (
      failure instanceof RetryableError &&
      failure.status === 429 &&
      failure.retryAfterMs !== undefined
    ) {
      log.warn(
        { retryAfterMs: failure.retryAfterMs },
        'rate limited by the Agent Engine: pausing the queue',
      );
      await queue.rateLimit(failure.retryAfterMs);
      return new RateLimitError();
    }
    const final = failure.kind === 'permanent' || attempt >= (job.opts.attempts ?? 1);
    if (final) {
      await recordSync(deps.pool, subject, new Date(clock.now()), 'failed', {
        kind: failure.kind,
        reason: failure.message,
        attempts: attempt,
      }).catch((e: unknown) => log.error({ err: e }, 'could not record the failure'));
      log.error({ kind: failure.kind, reason: failure.message }, 'sync failed');
      events?.onFailed?.(subject, failure.kind, failure.message);
    } else {
      log.warn({ kind: failure.kind, reason: failure.message }, 'sync attempt failed, will retry');
    }
    return failure.kind === 'permanent' ? new UnrecoverableError(failure.message) : failure;
  };

  const worker = new Worker<SyncJobData, SyncResult>(SYNC_QUEUE, processJob, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs ?? 30_000,
    // Look for stalled jobs (a killed daemon's) as often as a lock can expire.
    stalledInterval: options.lockDurationMs ?? 30_000,
    // Never binds (a million jobs a second); it is what makes `queue.rateLimit()` (the 429 and
    // breaker pauses above) stop every daemon's worker: BullMQ ignores it without a limiter.
    limiter: { max: 1_000_000, duration: 1000 },
    autorun: false,
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
  });
  worker.on('error', (error) => logger.warn({ err: error }, 'sync worker error'));
  return worker;
}
