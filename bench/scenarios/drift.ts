/**
 * Drifted sweep: 1% of the customers renamed or status-flipped in the table (quietly, so only
 * the sweep finds them), under a real API_RATE_LIMIT. The simulator enforces a limit a little
 * above ours, so a client that overshoots would see 429s. Measured from queueing the sweep to
 * the last of its syncs ending: the list pass and the writes share the same limit.
 */
import { performance } from 'node:perf_hooks';

import { callsOf, type Calls } from '../calls.js';
import { driftFleet } from '../fleet.js';
import { withStack } from '../stack.js';
import { timeSweep } from '../sweep.js';

export interface DriftResult {
  readonly n: number;
  readonly drifted: number;
  readonly rateLimit: number;
  readonly simLimit: number;
  readonly convergedMs: number;
  readonly planMs: number;
  readonly queued: number;
  readonly failed: number;
  readonly calls: Calls;
  /** All calls (list pass included) per second over the whole window, and its share of the limit. */
  readonly callsPerSecond: number;
  readonly limitUsed: number;
  /**
   * Counted at the simulator: the most calls in any 10-second window as a share of 10 s of the
   * limit (must stay ≤ 1); the rate of the syncs' phase (planned → the last call, when syncs are
   * always waiting for the limit) and of the list pass, as shares of the limit.
   */
  readonly busiest10sShare: number;
  readonly syncPhaseShare: number;
  readonly listPassShare: number;
  readonly changesPerSecond: number;
  /** Calls other than the list pass and token mints, per drifted customer. */
  readonly syncCallsPerChange: number;
  readonly callsPerChange: number;
}

export async function driftedSweep(n: number, rateLimit: number): Promise<DriftResult> {
  const simLimit = Math.ceil(rateLimit * 1.1);
  return withStack(
    { label: 'drift', n, env: { API_RATE_LIMIT: `${rateLimit}/s` } },
    async (stack) => {
      const drifted = await driftFleet(stack.db.pool, n, 0.01);
      stack.sim.faults.set({ rateLimitPerSecond: simLimit });
      stack.sim.stats.reset();
      const sweep = await timeSweep(stack, 20 * 60_000);
      const calls = callsOf(stack.sim.stats);
      const seconds = sweep.convergedMs / 1000;
      const syncCalls = calls.total - calls.lists - calls.tokens;
      // Arrival times are performance.now(); the sweeps row's times are epoch milliseconds.
      const arrivals = stack.sim.stats.arrivals().map((t) => performance.timeOrigin + t);
      const first = arrivals[0] ?? 0;
      const last = arrivals.at(-1) ?? 0;
      const within = (from: number, to: number) =>
        arrivals.filter((t) => t >= from && t <= to).length;
      const syncPhase = within(sweep.plannedAt, last) / ((last - sweep.plannedAt) / 1000);
      const listPass = within(first, sweep.listedAt) / ((sweep.listedAt - first) / 1000);
      return {
        n,
        drifted,
        rateLimit,
        simLimit,
        convergedMs: sweep.convergedMs,
        planMs: sweep.planMs,
        queued: sweep.queued,
        failed: sweep.failed,
        calls,
        callsPerSecond: calls.total / seconds,
        limitUsed: calls.total / seconds / rateLimit,
        busiest10sShare: stack.sim.stats.busiestWindow(10_000) / (rateLimit * 10),
        syncPhaseShare: syncPhase / rateLimit,
        listPassShare: listPass / rateLimit,
        changesPerSecond: drifted / seconds,
        syncCallsPerChange: syncCalls / drifted,
        callsPerChange: calls.total / drifted,
      };
    },
  );
}
