/**
 * Steady sweep: the fleet already in step. A fresh daemon's first sweep (cold: a new process,
 * nothing compiled yet) is reported, then {@link WARMUP} more sweeps (reported too), then
 * {@link PAIRS} pairs, each the lower bound measured on the same stack (also warm) and, just after
 * it, a warm sweep, as every scheduled sweep of a running daemon is. The warm-up is what a daemon
 * goes through once after it starts: on this machine its CPU per sweep falls by about 40% over
 * the sweeps after the cold one (by `--cpu-prof`, the same socket writes cost the kernel half as
 * much by the fourth), and a pair measured meanwhile compares a daemon that is not yet steady. The
 * pair with the median ratio is the figure, and every pair's ratio is kept: on a shared machine one
 * pair can be 30% off either way. API_RATE_LIMIT is set far above what the list pass can reach,
 * so the limiter's wait is not what is measured (its Redis round trip per batch of calls still is).
 */
import { callsOf, type Calls } from '../calls.js';
import { type LowerBound, measureLowerBound } from '../lowerBound.js';
import { withStack } from '../stack.js';
import { naivePeer, type NaiveResult } from './naive.js';
import { timeSweep } from '../sweep.js';

export const STEADY_RATE_LIMIT = '100000/s';

/** Sweeps after the cold one before the pairs: a daemon's CPU per sweep settles over these. */
const WARMUP = 3;
/** Lower bound and warm sweep, measured this many times in turn. */
const PAIRS = 5;

export interface SteadyResult {
  readonly n: number;
  readonly wallMs: number;
  readonly listMs: number;
  readonly planMs: number;
  readonly lowerBound: LowerBound;
  /** wallMs / lowerBound.totalMs: the median pair's. */
  readonly ratio: number;
  /** Every pair's ratio, in the order measured. */
  readonly ratios: readonly number[];
  readonly calls: Calls;
  /** ceil(N/100) + 2, the goal's ceiling. */
  readonly callCeiling: number;
  readonly queued: number;
  readonly outcome: string;
  /** The first sweep of the fresh daemon. */
  readonly coldWallMs: number;
  /** The {@link WARMUP} sweeps after it, before the pairs. */
  readonly warmupWallMs: readonly number[];
  readonly rssBeforeMiB: number;
  /** The daemon's CPU seconds (user + system) for the median pair's sweep, per 100k workspaces. */
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
      const before = await stack.daemon.memory();
      const cold = await timeSweep(stack, 15 * 60_000);
      const warmup = [];
      for (let i = 0; i < WARMUP; i++) warmup.push(await timeSweep(stack, 15 * 60_000));
      const pairs = [];
      for (let i = 0; i < PAIRS; i++) {
        const lowerBound = await measureLowerBound(stack);
        stack.sim.stats.reset();
        const cpuBefore = await stack.daemon.cpuSeconds();
        const sweep = await timeSweep(stack, 15 * 60_000);
        const cpu = (await stack.daemon.cpuSeconds()) - cpuBefore;
        const calls = callsOf(stack.sim.stats);
        pairs.push({ lowerBound, sweep, cpu, calls, ratio: sweep.wallMs / lowerBound.totalMs });
      }
      const median = [...pairs].sort((a, b) => a.ratio - b.ratio)[Math.floor(PAIRS / 2)];
      if (!median) throw new Error('unreachable: no pair measured');
      const { lowerBound, sweep, cpu, calls } = median;
      const after = await stack.daemon.memory();
      const naive = options.naive ? await naivePeer(stack) : undefined;
      return {
        ...(naive ? { naive } : {}),
        n,
        wallMs: sweep.wallMs,
        listMs: sweep.listMs,
        planMs: sweep.planMs,
        lowerBound,
        ratio: median.ratio,
        ratios: pairs.map((p) => p.ratio),
        calls,
        callCeiling: Math.ceil(n / 100) + 2,
        queued: sweep.queued,
        outcome: sweep.outcome,
        coldWallMs: cold.wallMs,
        warmupWallMs: warmup.map((w) => w.wallMs),
        rssBeforeMiB: before.rssMiB,
        cpuSecondsPer100k: (cpu / n) * 100_000,
        peakRssMiB: after.peakMiB,
      };
    },
  );
}
