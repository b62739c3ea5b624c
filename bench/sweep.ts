/** One sweep queued on the daemon the way `sweep` does, timed from the bench's side. */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { sweepProgress } from '../src/sql/sweepProgress.js';
import { pollUntil } from './infra.js';
import type { Stack } from './stack.js';

export interface SweepTiming {
  readonly sweepId: string;
  /** Queued → the sweeps row's `finished_at` seen (planning done, syncs queued). */
  readonly wallMs: number;
  /** From the row: started → listed (the list pass) and listed → finished (the SQL join). */
  readonly listMs: number;
  readonly planMs: number;
  /** When the listing ended and when planning ended (epoch ms, the sweeps row). */
  readonly listedAt: number;
  readonly plannedAt: number;
  readonly outcome: string;
  readonly counts: Record<string, number>;
  /** Queued → every sync it queued has ended (equal to wallMs when nothing was queued). */
  readonly convergedMs: number;
  readonly queued: number;
  readonly failed: number;
}

export async function timeSweep(stack: Stack, timeoutMs: number): Promise<SweepTiming> {
  const sweepId = randomUUID();
  const t0 = performance.now();
  await stack.queues.sweep.add('sweep', { trigger: 'manual', sweepId }, { jobId: sweepId });
  const planned = await pollUntil(
    async () => {
      const p = await sweepProgress(stack.db.pool, sweepId);
      return p.sweep?.finishedAt ? p : undefined;
    },
    `sweep ${sweepId}`,
    timeoutMs,
    10,
  );
  const wallMs = performance.now() - t0;
  const done = await pollUntil(
    async () => {
      const p = await sweepProgress(stack.db.pool, sweepId);
      return p.ended >= p.queued ? p : undefined;
    },
    `the syncs of sweep ${sweepId}`,
    timeoutMs,
    20,
  );
  const convergedMs = done.queued === 0 ? wallMs : performance.now() - t0;
  const row = planned.sweep;
  if (!row?.finishedAt) throw new Error('unreachable: sweep row without finished_at');
  const listedAt = row.listedAt ?? row.finishedAt;
  return {
    sweepId,
    wallMs,
    listMs: listedAt.getTime() - row.startedAt.getTime(),
    planMs: row.finishedAt.getTime() - listedAt.getTime(),
    listedAt: listedAt.getTime(),
    plannedAt: row.finishedAt.getTime(),
    outcome: row.outcome,
    counts: row.counts,
    convergedMs,
    queued: done.queued,
    failed: done.failed,
  };
}
