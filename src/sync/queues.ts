/**
 * The queues. Redis holds only triggers (docs/design.md §1): a sync job names a customer (or an
 * orphan workspace), never an action, and losing one loses nothing the next sweep cannot find.
 *
 * - `sync`: per-subject syncs, deduplicated by subject with `keepLastIfActive`, so across every
 *   daemon at most one runs and one waits per customer, and a trigger that arrives while one runs
 *   is not lost (client-go's workqueue semantics). Two lanes in the one queue: people (webhooks,
 *   direct writes, a few named customers) go ahead of backfills (sweeps, `enqueue --all`,
 *   `retry-failed`), see {@link laneOf}; both share the one API rate limit.
 * - `sweep`: full sweeps, one at a time across all daemons (global concurrency 1, and a Postgres
 *   lease inside the sweep itself, `sweepLease.ts`).
 * - `due`: delayed reminders (a deleted customer's delete falls due) that, when they fire, queue
 *   an ordinary deduplicated sync, so they never run beside one.
 */
import { createHash } from 'node:crypto';

import { type Job, type JobsOptions, Queue, type Telemetry } from 'bullmq';

import type { RedisClient } from '../lib/redisClient.js';
import type { EnqueueOptions, SyncQueue } from '../core/ports.js';
import type { Trigger } from '../core/types.js';

export const SYNC_QUEUE = 'sync';
export const SWEEP_QUEUE = 'sweep';
export const DUE_QUEUE = 'due';
export const SWEEP_SCHEDULER_ID = 'scheduled-sweep';

/** A customer's sync, or an orphan workspace's. */
export interface SyncJobData {
  /** The subject's key (`subjectKey` in core/subject.ts). */
  readonly subject: string;
  readonly trigger: Trigger;
  /** The sweep that queued it, when one did. */
  readonly sweepId?: string;
  /**
   * A person asked for it by name: it reads the workspace before deciding (see
   * {@link EnqueueOptions.readFirst} and {@link takeReadFirst}).
   */
  readonly readFirst?: true;
}

/**
 * The sweep id of a sweep job: the one `sweep` chose, else one derived from the job's id, so a
 * scheduled sweep retaken after its daemon died runs again under the same id and starts by
 * clearing what the dead run left behind.
 */
export function sweepIdOf(job: {
  readonly id?: string | undefined;
  readonly data: SweepJobData;
}): string {
  if (job.data.sweepId) return job.data.sweepId;
  const hex = createHash('sha256')
    .update(`sweep-job:${job.id ?? ''}`)
    .digest('hex');
  // Shaped as a UUID (version 8, "custom"), like every other sweep id.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface SweepJobData {
  readonly trigger: 'schedule' | 'manual' | 'overflow';
  /** Set by `sweep` so the CLI can name the sweep before it runs. */
  readonly sweepId?: string;
}

export interface DueJobData {
  readonly subject: string;
}

/**
 * Who is waiting for a sync. `person`: someone just changed this customer (a webhook, a direct
 * write, an operator naming a few customers) and expects to see it soon. `backfill`: a sweep or
 * a bulk enqueue, where only the whole matters.
 */
export type Lane = 'person' | 'backfill';

/** The triggers whose syncs are backfills; every other trigger is a person's. */
const BACKFILL_TRIGGERS: ReadonlySet<Trigger> = new Set(['sweep', 'backfill', 'retry']);

export const laneOf = (trigger: Trigger): Lane =>
  BACKFILL_TRIGGERS.has(trigger) ? 'backfill' : 'person';

/**
 * BullMQ's priority for backfill syncs. A worker takes jobs without a priority (the wait list,
 * first in first out) before any prioritized one, so a person's sync waits only for the syncs
 * already running, never for the backlog. Within the backfill lane the order stays first in,
 * first out (equal priorities keep insertion order).
 */
export const BACKFILL_PRIORITY = 10;

export interface RetryPolicy {
  readonly attempts: number;
  readonly backoffMs: number;
}

export function syncJobOptions(
  subject: string,
  retry: RetryPolicy,
  lane: Lane = 'person',
): JobsOptions {
  return {
    ...(lane === 'backfill' ? { priority: BACKFILL_PRIORITY } : {}),
    deduplication: { id: subject, keepLastIfActive: true },
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.5 },
    removeOnComplete: { count: 1000 },
    removeOnFail: { count: 5000 },
  };
}

export interface Queues {
  readonly sync: Queue<SyncJobData>;
  readonly sweep: Queue<SweepJobData>;
  readonly due: Queue<DueJobData>;
  close(): Promise<void>;
}

/** `telemetry` (tracing on): a sync job carries the trace of whatever queued it to its worker. */
export function createQueues(
  connection: RedisClient,
  prefix: string,
  telemetry?: Telemetry,
): Queues {
  const sync = new Queue<SyncJobData>(SYNC_QUEUE, {
    connection,
    prefix,
    ...(telemetry ? { telemetry } : {}),
  });
  const sweep = new Queue<SweepJobData>(SWEEP_QUEUE, { connection, prefix });
  const due = new Queue<DueJobData>(DUE_QUEUE, { connection, prefix });
  // An unreachable Redis is reported by readiness and by the operation that needed it.
  for (const queue of [sync, sweep, due]) queue.on('error', () => {});
  return {
    sync,
    sweep,
    due,
    close: async () => {
      await Promise.allSettled([sync.close(), sweep.close(), due.close()]);
    },
  };
}

/** A reminder to look at a subject again at `at` (one per subject and time). */
export async function remindAt(
  queue: Queue<DueJobData>,
  subject: string,
  at: number,
  now: number,
): Promise<void> {
  await queue.add(
    'due',
    { subject },
    {
      jobId: `due-${encodeURIComponent(subject)}-${at}`,
      delay: Math.max(0, at - now),
      removeOnComplete: true,
      removeOnFail: { count: 100 },
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
    },
  );
}

/** Bulk adds in batches this size: one round trip each, small enough to keep Redis responsive. */
const BULK = 500;

/** The {@link SyncQueue} every trigger uses: sweeps, webhooks, direct writes, the CLI. */
export function syncQueueOf(
  queue: Queue<SyncJobData>,
  retry: RetryPolicy,
  redis: RedisClient,
): SyncQueue {
  return {
    async enqueue(subjects, trigger, options: EnqueueOptions = {}) {
      const { sweepId, traces, readFirst } = options;
      const lane = laneOf(trigger);
      for (let i = 0; i < subjects.length; i += BULK) {
        const batch = subjects.slice(i, i + BULK);
        if (readFirst) await markReadFirst(queue, redis, batch);
        const jobs = await queue.addBulk(
          batch.map((subject, j) => {
            const metadata = traces?.[i + j];
            const opts = syncJobOptions(subject, retry, lane);
            return {
              name: 'sync',
              data: {
                subject,
                trigger,
                ...(sweepId ? { sweepId } : {}),
                ...(readFirst ? { readFirst: true as const } : {}),
              },
              // BullMQ's telemetry: this job continues that trace, not the batch's.
              opts: metadata ? { ...opts, telemetry: { metadata } } : opts,
            };
          }),
        );
        if (lane === 'person') await promoteWaitingBackfills(queue, redis, jobs);
      }
    },
  };
}

/**
 * How long a "read first" mark waits for a sync of its subject to start. Longer than any queue
 * wait; a mark left behind (its jobs lost with Redis's data) costs one GET at most, once.
 */
const READ_FIRST_TTL_S = 24 * 60 * 60;

const readFirstKey = (queue: Queue<SyncJobData>, subject: string) =>
  queue.toKey(`read-first:${subject}`);

/**
 * Marks the subjects "read first" before their jobs are added. The flag rides in the job data
 * too, but BullMQ's deduplication drops a job's data when one is already waiting (the waiting
 * job's data stays), and keeps only the latest data of the triggers that arrive while one runs
 * (`keepLastIfActive`): a webhook's trigger after the person's would erase it. The mark outlives
 * both; the next sync of the subject to start takes it ({@link takeReadFirst}). Set before the
 * add, so whichever sync takes it starts after the person asked.
 */
async function markReadFirst(
  queue: Queue<SyncJobData>,
  redis: RedisClient,
  subjects: readonly string[],
): Promise<void> {
  const pipeline = redis.pipeline();
  for (const subject of subjects)
    pipeline.set(readFirstKey(queue, subject), '1', 'EX', READ_FIRST_TTL_S);
  const results = await pipeline.exec();
  const failed = results?.find(([error]) => error);
  if (failed?.[0]) throw failed[0];
}

/**
 * Whether a sync starting now must read its workspace first: its job says so, or a person asked
 * for its subject by name since the last sync of it started (a mark the deduplication could not
 * carry). Takes the mark: this sync answers the person. The job's data then says so too, so a
 * retry of this job reads first as well.
 */
export async function takeReadFirst(
  redis: RedisClient,
  queue: Queue<SyncJobData>,
  job: Job<SyncJobData>,
): Promise<boolean> {
  const marked = (await redis.del(readFirstKey(queue, job.data.subject))) > 0;
  if (job.data.readFirst) return true;
  if (marked) await job.updateData({ ...job.data, readFirst: true });
  return marked;
}

/**
 * A person's trigger for a customer whose backfill sync is already waiting is deduplicated into
 * that job (BullMQ answers with the waiting job's id), which would keep it behind the backlog:
 * such jobs move to the person lane. One round trip finds them (a sorted-set score per job: only
 * prioritized jobs have one); a job already running has stored the person's trigger as its next
 * job instead (`keepLastIfActive`), which is queued in the person lane when the run ends.
 */
async function promoteWaitingBackfills(
  queue: Queue<SyncJobData>,
  redis: RedisClient,
  jobs: readonly Job<SyncJobData>[],
): Promise<void> {
  const ids = jobs.map((job) => job.id ?? '');
  if (ids.length === 0) return;
  const scores = await redis.zmscore(queue.toKey('prioritized'), ...ids);
  const backfills = jobs.filter((job, i) => job.id && scores[i] !== null);
  // Priority 0 moves the job from the prioritized set to the end of the wait list, atomically;
  // a job that started meanwhile keeps running and only its stored priority changes.
  await Promise.all(backfills.map((job) => job.changePriority({ priority: 0 })));
}

/**
 * Asserts the sweep schedule. Every daemon calls it at start and then periodically, so the
 * schedule comes back by itself after Redis loses its data (upserting is idempotent).
 */
export async function assertSweepSchedule(queues: Queues, everyMs: number): Promise<void> {
  await queues.sweep.setGlobalConcurrency(1);
  await queues.sweep.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { every: everyMs },
    {
      name: 'sweep',
      data: { trigger: 'schedule' },
      opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
    },
  );
}
