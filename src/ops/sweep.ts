/**
 * `sweep`: queue a full sweep now under a fresh id, and (with `--wait`) follow it until it and
 * every sync it queued have ended. Progress comes from the sweep job (pages, changes, queued,
 * reported by the sweep worker) and from Postgres (`sweepProgress`: syncs ended, failed, held).
 */
import { randomUUID } from 'node:crypto';

import type { App } from '../app.js';
import { SECOND } from '../lib/duration.js';
import { sweepProgress } from '../sql/sweepProgress.js';
import type { SweepProgress, SweepReport } from '../sync/sweep.js';

type SweepApp = Pick<App, 'queues' | 'pool' | 'clock'>;

/** Queues a manual sweep; its id is also the job's id and the `sweeps` row's. */
export async function queueSweep(app: Pick<App, 'queues'>): Promise<string> {
  const sweepId = randomUUID();
  await app.queues.sweep.add(
    'sweep',
    { trigger: 'manual', sweepId },
    { jobId: sweepId, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
  );
  return sweepId;
}

/** Where a sweep has got, as shown while waiting. */
export interface SweepWatch {
  readonly sweepId: string;
  /** queued (no worker has it yet), listing, planning, syncing, done */
  readonly phase: 'queued' | 'listing' | 'planning' | 'syncing' | 'done';
  readonly pages: number;
  readonly workspaces: number;
  readonly customers: number;
  readonly changes: number;
  readonly queued: number;
  readonly ended: number;
  readonly failed: number;
  readonly held: number;
  /** No worker consumes the queue this phase needs (sweep, then sync): nothing will move. */
  readonly noWorker: boolean;
}

/** How a sweep ended, and the exit code docs/contract.md gives it. */
export interface SweepSummary {
  readonly sweepId: string;
  /** ok, held, incomplete, failed, skipped */
  readonly outcome: string;
  readonly durationMs: number;
  readonly counts: Record<string, number>;
  readonly queued: number;
  readonly ended: number;
  readonly failed: number;
  readonly held: number;
  readonly error?: string;
  /** 0 all done; 1 some failed, held or incomplete; 2 could not start. */
  readonly exitCode: 0 | 1 | 2;
}

export interface WaitOptions {
  readonly onUpdate?: (watch: SweepWatch) => void;
  readonly intervalMs?: number;
  readonly signal?: AbortSignal;
}

/** A sweep row's outcome when nothing was held, skipped or cut short. */
const GOOD_OUTCOMES = new Set(['ok', 'done']);

const ZERO: SweepProgress = { pages: 0, workspaces: 0, customers: 0, changes: 0, queued: 0 };

/** Follows a queued sweep until it and every sync it queued have ended. */
export async function waitForSweep(
  app: SweepApp,
  sweepId: string,
  options: WaitOptions = {},
): Promise<SweepSummary> {
  const interval = options.intervalMs ?? 200;
  const started = app.clock.now();
  let lastWorkerCheck = -Infinity;
  let noWorker = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const job = await app.queues.sweep.getJob(sweepId);
    const state = job ? await job.getState() : 'unknown';
    const p = await sweepProgress(app.pool, sweepId);
    const report = job?.returnvalue as SweepReport | null | undefined;
    if (state === 'completed' && report?.skipped) {
      return summary(
        sweepId,
        'skipped',
        started,
        app,
        p,
        'another sweep held the lock; this one did nothing',
        2,
      );
    }
    // A failed job ends the wait, whatever its row says (a run that died may have left it
    // `running`): it will not move again.
    if (state === 'failed' && !(p.sweep?.finishedAt && p.ended < p.queued)) {
      return summary(
        sweepId,
        'failed',
        started,
        app,
        p,
        job?.failedReason ?? 'the sweep job failed',
        1,
      );
    }
    const finished = Boolean(p.sweep?.finishedAt);
    if (finished && p.ended >= p.queued) {
      const outcome = p.sweep?.outcome ?? 'ok';
      const bad = !GOOD_OUTCOMES.has(outcome) || p.failed > 0 || p.held > 0;
      return summary(sweepId, outcome, started, app, p, p.sweep?.error ?? undefined, bad ? 1 : 0);
    }
    const progress = progressOf(job?.progress, p.sweep?.counts);
    const phase: SweepWatch['phase'] = finished
      ? 'syncing'
      : !p.sweep
        ? 'queued'
        : p.sweep.listedAt
          ? 'planning'
          : 'listing';
    if (app.clock.now() - lastWorkerCheck >= 2 * SECOND) {
      lastWorkerCheck = app.clock.now();
      noWorker = await nobodyConsumes(app, phase);
    }
    options.onUpdate?.({
      sweepId,
      phase,
      ...progress,
      queued: finished ? p.queued : progress.queued,
      ended: p.ended,
      failed: p.failed,
      held: p.held,
      noWorker,
    });
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

function progressOf(raw: unknown, counts: Record<string, number> | undefined): SweepProgress {
  const fromJob =
    typeof raw === 'object' && raw !== null && 'pages' in raw ? (raw as SweepProgress) : ZERO;
  if (!counts || counts.pages === undefined) return { ...fromJob };
  return {
    pages: counts.pages,
    workspaces: counts.workspaces ?? fromJob.workspaces,
    customers: counts.customers ?? fromJob.customers,
    changes: Math.max(fromJob.changes, countChanges(counts)),
    queued: counts.queued ?? fromJob.queued,
  };
}

const ACTIONS = ['create', 'adopt', 'rename', 'activate', 'deactivate', 'delete', 'conflicts'];
const countChanges = (counts: Record<string, number>) =>
  ACTIONS.reduce((n, a) => n + (counts[a] ?? 0), 0);

/** True when no worker consumes the queue the sweep is waiting on (CLIENT LIST may be off). */
async function nobodyConsumes(app: SweepApp, phase: SweepWatch['phase']): Promise<boolean> {
  try {
    const queue = phase === 'syncing' ? app.queues.sync : app.queues.sweep;
    return (await queue.getWorkers()).length === 0;
  } catch {
    return false;
  }
}

function summary(
  sweepId: string,
  outcome: string,
  started: number,
  app: SweepApp,
  p: Awaited<ReturnType<typeof sweepProgress>>,
  error: string | undefined,
  exitCode: 0 | 1 | 2,
): SweepSummary {
  const sweep = p.sweep;
  // From the sweep's start to its last sync's end (or to now, when it never started).
  const durationMs = Math.max(app.clock.now() - (sweep?.startedAt.getTime() ?? started), 0);
  return {
    sweepId,
    outcome,
    durationMs,
    counts: sweep?.counts ?? {},
    queued: p.queued,
    ended: p.ended,
    failed: p.failed,
    held: p.held + (sweep?.counts.held ?? 0),
    ...(error ? { error } : {}),
    exitCode,
  };
}
