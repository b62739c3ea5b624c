/**
 * Steady sweep: the fleet already in step. Two sweeps on a fresh daemon: the first (cold: a new
 * process, nothing compiled yet) is reported too, the second is the figure, as every scheduled
 * sweep of a running daemon is warm. Timed against the lower bound measured on the same stack
 * just before (also warm). API_RATE_LIMIT is set far above what the list pass can reach, so the
 * limiter's wait is not what is measured (its Redis round trip per call still is).
 */
import { callsOf, type Calls } from '../calls.js';
import { type LowerBound, measureLowerBound } from '../lowerBound.js';
import { withStack } from '../stack.js';
import { naivePeer, type NaiveResult } from './naive.js';
import { timeSweep } from '../sweep.js';

export const STEADY_RATE_LIMIT = '100000/s';

export interface SteadyResult {
  readonly n: number;
  readonly wallMs: number;
  readonly listMs: number;
  readonly planMs: number;
  readonly lowerBound: LowerBound;
  /** wallMs / lowerBound.totalMs. */
  readonly ratio: number;
  readonly calls: Calls;
  /** ceil(N/100) + 2, the goal's ceiling. */
  readonly callCeiling: number;
  readonly queued: number;
  readonly outcome: string;
  /** The first sweep of the fresh daemon. */
  readonly coldWallMs: number;
  readonly rssBeforeMiB: number;
  /** The daemon's CPU seconds (user + system) for the warm sweep, per 100k workspaces. */
  readonly cpuSecondsPer100k: number;
  readonly peakRssMiB: number;
  /** The naive peer on the same stack, after the sweeps, when asked for. */
  readonly naive?: NaiveResult;
}

export async function steadySweep(
  n: number,
  options: { naive?: boolean; cpuProfDir?: string } = {},
): Promise<SteadyResult> {
  const { cpuProfDir } = options;
  return withStack(
    {
      label: 'steady',
      n,
      env: { API_RATE_LIMIT: STEADY_RATE_LIMIT },
      ...(cpuProfDir ? { cpuProfDir } : {}),
    },
    async (stack) => {
      const lowerBound = await measureLowerBound(stack);
      const before = await stack.daemon.memory();
      const cold = await timeSweep(stack, 15 * 60_000);
      stack.sim.stats.reset();
      const cpuBefore = await stack.daemon.cpuSeconds();
      const sweep = await timeSweep(stack, 15 * 60_000);
      const cpu = (await stack.daemon.cpuSeconds()) - cpuBefore;
      const after = await stack.daemon.memory();
      const calls = callsOf(stack.sim.stats);
      const naive = options.naive ? await naivePeer(stack) : undefined;
      return {
        ...(naive ? { naive } : {}),
        n,
        wallMs: sweep.wallMs,
        listMs: sweep.listMs,
        planMs: sweep.planMs,
        lowerBound,
        ratio: sweep.wallMs / lowerBound.totalMs,
        calls,
        callCeiling: Math.ceil(n / 100) + 2,
        queued: sweep.queued,
        outcome: sweep.outcome,
        coldWallMs: cold.wallMs,
        rssBeforeMiB: before.rssMiB,
        cpuSecondsPer100k: (cpu / n) * 100_000,
        peakRssMiB: after.peakMiB,
      };
    },
  );
}
