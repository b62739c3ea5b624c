/**
 * First sweep: N customers and an empty organization, so every customer's workspace is created.
 * Counts what each creation cost at the simulator: the goal is mint + info (2 calls), the list
 * pass and the application tokens aside. Every tenth customer is inactive: its new workspace is
 * created active and then deactivated, one PUT more (the API has no status on create).
 */
import { callsOf, type Calls } from '../calls.js';
import { customerStatus } from '../fleet.js';
import { withStack } from '../stack.js';
import { timeSweep } from '../sweep.js';

export interface FirstSweepResult {
  readonly n: number;
  readonly rateLimit: number;
  readonly created: number;
  /** Customers whose new workspace must then be set inactive. */
  readonly inactive: number;
  readonly calls: Calls;
  readonly convergedMs: number;
  readonly failed: number;
  /** Calls other than the list pass, token mints and the inactive ones' PUT, per creation. */
  readonly callsPerCreated: number;
}

export async function firstSweep(n: number, rateLimit: number): Promise<FirstSweepResult> {
  return withStack(
    { label: 'first', n, emptyOrganization: true, env: { API_RATE_LIMIT: `${rateLimit}/s` } },
    async (stack) => {
      // An organization starts with its default workspace, which is no customer's.
      const before = stack.sim.store.counts().total;
      const sweep = await timeSweep(stack, 20 * 60_000);
      const calls = callsOf(stack.sim.stats);
      const { total, inactive } = stack.sim.store.counts();
      const created = total - before;
      let expectedInactive = 0;
      for (let i = 0; i < n; i++) if (customerStatus(i) === 'inactive') expectedInactive += 1;
      if (created !== n || inactive !== expectedInactive || sweep.failed > 0) {
        throw new Error(
          `first sweep did not converge: ${created}/${n} created, ${inactive}/${expectedInactive} inactive, ${sweep.failed} failed`,
        );
      }
      return {
        n,
        rateLimit,
        created,
        inactive,
        calls,
        convergedMs: sweep.convergedMs,
        failed: sweep.failed,
        callsPerCreated: (calls.total - calls.lists - calls.tokens - calls.puts) / created,
      };
    },
  );
}
