/** `status`: one look at everything an operator asks first. Reads only; no API calls. */
import type { App } from '../app.js';
import { outageMessage, sourceOutage } from '../core/sourceOutage.js';
import type { RegionMismatch } from '../core/region.js';
import { measureSource } from '../sql/sourceSize.js';
import { regionMismatches } from '../sql/regions.js';
import { latestSweeps } from '../sql/sweepProgress.js';
import { listFailedSyncs } from './failed.js';
import { listReportedOrphans } from './fleet.js';
import { isLimitTripped, listHeldChanges } from './held.js';

/** The sync queue's states `status` counts. */
export const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
] as const;

/** `status --json`, as docs/contract.md lists it, with a few extra fields. */
export interface StatusReport {
  readonly queue: Record<(typeof QUEUE_STATES)[number], number> & { paused: boolean };
  readonly sweeps: {
    id: string;
    trigger: string;
    startedAt: string;
    finishedAt: string | null;
    durationMs: number | null;
    outcome: string;
    counts: Record<string, number>;
    error: string | null;
  }[];
  readonly failed: {
    customerId: string;
    reason: string;
    kind: string;
    attempts: number;
    at: string;
  }[];
  readonly held: {
    holdId: number;
    sweepId: string | null;
    customerId: string | null;
    action: string;
    workspaceId: string | null;
    createdAt: string;
    /** `limit` (the mass-change limit), or `source-empty` / `source-shrank` (a source outage). */
    reason: string;
  }[];
  /**
   * The customers source looks out now (no rows while workspaces are linked, or far fewer than
   * its accepted size): the destructive changes of customers whose rows left it are held. Null
   * when it does not.
   */
  /**
   * A change the mass-change limit held waits for `approve`: until then every destructive change
   * from a webhook, a direct write or `enqueue` is held too.
   */
  readonly limitTripped: boolean;
  readonly sourceOutage: {
    reason: string;
    rows: number;
    accepted: number | null;
    linked: number;
    message: string;
  } | null;
  readonly orphans: { workspaceId: string; name: string; status: string; seenAt: string }[];
  readonly breaker: 'closed' | 'open';
  readonly breakerReason: string | null;
  readonly breakerOpenedAt: string | null;
  /** Until when a 429 paused every daemon's Agent Engine calls; null when calls flow. */
  readonly rateLimitedUntil: string | null;
  /**
   * Customers whose workspace was minted in another region than their row (or DEFAULT_REGION)
   * wants now: reported, never moved (region ids; docs/operating.md, "Data residency").
   */
  readonly regionMismatches: RegionMismatch[];
}

/** Gathers the status from Postgres and Redis. */
export async function getStatus(
  app: Pick<App, 'pool' | 'queues' | 'breaker' | 'rateLimiter' | 'source' | 'policy' | 'config'>,
  options: { sweeps?: number; limit?: number } = {},
): Promise<StatusReport> {
  const limit = options.limit ?? 1000;
  const [counts, paused, sweeps, failed, held, orphans, breaker, pausedUntil, size, tripped] =
    await Promise.all([
      app.queues.sync.getJobCounts(...QUEUE_STATES),
      app.queues.sync.isPaused(),
      latestSweeps(app.pool, options.sweeps ?? 5),
      listFailedSyncs(app, limit),
      listHeldChanges(app, limit),
      listReportedOrphans(app, limit),
      app.breaker.state(),
      app.rateLimiter.pausedUntil(),
      measureSource(app.pool, app.source),
      isLimitTripped(app),
    ]);
  const outage = sourceOutage(size, app.policy);
  const regions = await regionMismatches(app.pool, app.source, app.config.defaultRegion, limit);
  const queue = {
    ...Object.fromEntries(QUEUE_STATES.map((s) => [s, counts[s] ?? 0])),
    paused,
  } as StatusReport['queue'];
  return {
    queue,
    sweeps: sweeps.map((s) => ({
      id: s.id,
      trigger: s.trigger,
      startedAt: s.startedAt.toISOString(),
      finishedAt: s.finishedAt?.toISOString() ?? null,
      durationMs: s.finishedAt ? s.finishedAt.getTime() - s.startedAt.getTime() : null,
      outcome: s.outcome,
      counts: s.counts,
      error: s.error,
    })),
    failed: failed.map((f) => ({ ...f, at: f.at.toISOString() })),
    held: held.map((h) => ({ ...h, createdAt: h.createdAt.toISOString() })),
    orphans: orphans.map((o) => ({
      workspaceId: o.workspaceId,
      name: o.name,
      status: o.status,
      seenAt: o.seenAt.toISOString(),
    })),
    breaker: breaker.state,
    breakerReason: breaker.reason ?? null,
    breakerOpenedAt: breaker.openedAt ? new Date(breaker.openedAt).toISOString() : null,
    rateLimitedUntil: pausedUntil === undefined ? null : new Date(pausedUntil).toISOString(),
    limitTripped: tripped,
    sourceOutage: outage
      ? { reason: outage, ...size, message: outageMessage(outage, size, app.policy) }
      : null,
    regionMismatches: regions,
  };
}
