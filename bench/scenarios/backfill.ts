/**
 * People before backfills: `enqueue --all` queues a sync for each of 10,000 customers under
 * `API_RATE_LIMIT=20/s` (a backlog of minutes), and while it drains, billing webhooks rename
 * customers one at a time. Each sample is timed from the POST until the simulator's store shows
 * the new name: the customer has reached the Agent Engine. Every customer is in the backlog, so
 * each webhook also exercises the promotion of its customer's waiting backfill job.
 */
import { performance } from 'node:perf_hooks';

import { runNode } from '../cli.js';
import { customerId, customerName } from '../fleet.js';
import { pollUntil, sleep } from '../infra.js';
import { withStack } from '../stack.js';
import { newSecret, signedRename } from '../webhookSign.js';
import { SIM_LATENCY_MS } from './webhooks.js';

export interface BackfillResult {
  readonly fleet: number;
  readonly rateLimit: number;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Backfill jobs still waiting when the last sample converged: the backlog never ran dry. */
  readonly backlogLeft: number;
  /** Busiest 10-second window at the simulator, as a share of the limit. */
  readonly busiest10sShare: number;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

export async function backfill(options: {
  fleet: number;
  samples: number;
  rateLimit: number;
}): Promise<BackfillResult> {
  const secret = newSecret();
  const { fleet, rateLimit } = options;
  return withStack(
    {
      label: 'backfill',
      n: fleet,
      env: { BILLING_WEBHOOK_SECRET: secret, API_RATE_LIMIT: `${rateLimit}/s` },
    },
    async (stack) => {
      stack.sim.faults.set({ latencyMs: SIM_LATENCY_MS });
      await runNode(['dist/cli/main.js', 'enqueue', '--all'], stack.daemon.env);
      stack.sim.stats.reset();
      await sleep(3_000); // the backlog is draining at the limit
      const url = `${stack.daemon.url}/webhooks/billing`;
      const took: number[] = [];
      for (let k = 0; k < options.samples; k++) {
        const i = (k * 7919 + 4999) % fleet;
        const name = `${customerName(i)} (backfill ${k})`;
        const { headers, body } = signedRename(secret, customerId(i), name);
        const t0 = performance.now();
        const res = await fetch(url, { method: 'POST', headers, body });
        if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
        await pollUntil(
          async () => stack.sim.store.findByName(name) !== undefined,
          `workspace "${name}" during the backfill`,
          60_000,
          2,
        );
        took.push(performance.now() - t0);
        await sleep(250);
      }
      const left = await stack.queues.sync.getJobCounts('prioritized');
      took.sort((a, b) => a - b);
      return {
        fleet,
        rateLimit,
        samples: took.length,
        p50Ms: percentile(took, 50),
        p99Ms: percentile(took, 99),
        maxMs: took.at(-1) ?? NaN,
        backlogLeft: left.prioritized ?? 0,
        busiest10sShare: stack.sim.stats.busiestWindow(10_000) / (rateLimit * 10),
      };
    },
  );
}
