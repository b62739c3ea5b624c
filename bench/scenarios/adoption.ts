/**
 * Adoption: N customers whose workspaces already exist under their exact names, none linked yet
 * (customer-sync put on an organization that was run by hand). Every twentieth workspace's status
 * differs from its customer's. Counts what each adoption cost at the simulator: the goal is mint +
 * info (2 calls: the mint answers with the workspace of that name), plus one PUT only where the
 * status differs, the list pass and the application tokens aside.
 */
import { callsOf, type Calls } from '../calls.js';
import { customerName, customerStatus } from '../fleet.js';
import { withStack } from '../stack.js';
import { timeSweep } from '../sweep.js';

export interface AdoptionResult {
  readonly n: number;
  readonly rateLimit: number;
  /** Workspaces whose status differed from their customer's before the sweep. */
  readonly differing: number;
  readonly calls: Calls;
  readonly convergedMs: number;
  /** Calls other than the list pass, token mints and PUTs, per adopted workspace. */
  readonly callsPerAdopted: number;
}

const EVERY = 20;

export async function adoption(n: number, rateLimit: number): Promise<AdoptionResult> {
  return withStack(
    { label: 'adopt', n, unlinked: true, env: { API_RATE_LIMIT: `${rateLimit}/s` } },
    async (stack) => {
      const { store } = stack.sim;
      let differing = 0;
      for (let i = 0; i < n; i += EVERY) {
        const workspace = store.findByName(customerName(i));
        if (!workspace) throw new Error(`adoption: no workspace named ${customerName(i)}`);
        store.setStatus(workspace.id, customerStatus(i) === 'active' ? 'inactive' : 'active');
        differing += 1;
      }
      const before = store.counts().total;
      stack.sim.stats.reset();
      const sweep = await timeSweep(stack, 20 * 60_000);
      const { rows } = await stack.db.pool.query<{ linked: number }>(
        'select count(*)::int as linked from customer_links',
      );
      const linked = rows[0]?.linked ?? 0;
      let wrong = 0;
      for (let i = 0; i < n; i++) {
        if (store.findByName(customerName(i))?.status !== customerStatus(i)) wrong += 1;
      }
      const created = store.counts().total - before;
      if (linked !== n || wrong > 0 || created > 0 || sweep.failed > 0) {
        throw new Error(
          `adoption did not converge: ${linked}/${n} linked, ${wrong} statuses wrong, ${created} created, ${sweep.failed} failed`,
        );
      }
      const calls = callsOf(stack.sim.stats);
      return {
        n,
        rateLimit,
        differing,
        calls,
        convergedMs: sweep.convergedMs,
        callsPerAdopted: (calls.total - calls.lists - calls.tokens - calls.puts) / n,
      };
    },
  );
}
