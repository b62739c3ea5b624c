/**
 * Webhooks into a running daemon, with the simulator answering after 20 ms:
 * 1. converged latency: one signed rename at a time, timed until the simulator's store shows the
 *    workspace under its new name (polled in-process every 2 ms);
 * 2. ack throughput: autocannon on loopback, every request a fresh signed event (its own id,
 *    timestamp and name), for a fixed duration. Each accepted event also queues a sync, which the
 *    daemon runs meanwhile, as it would in production.
 */
import { performance } from 'node:perf_hooks';

import autocannon from 'autocannon';

import { customerId, customerName } from '../fleet.js';
import { pollUntil, sleep } from '../infra.js';
import { withStack } from '../stack.js';
import { newSecret, signedRename } from '../webhookSign.js';

export const SIM_LATENCY_MS = 20;

export interface WebhookResult {
  /** Receiver and workers in two daemons (`WORKER_CONCURRENCY=0` on the receiver). */
  readonly split: boolean;
  readonly fleet: number;
  readonly connections: number;
  readonly durationS: number;
  readonly verified: number;
  readonly eventsPerSecond: number;
  readonly ackP50Ms: number;
  readonly ackP99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly convergeSamples: number;
  readonly convergedP50Ms: number;
  readonly convergedP99Ms: number;
  readonly convergedMaxMs: number;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

export async function webhooks(options: {
  fleet: number;
  durationS: number;
  samples: number;
  connections: number;
  split: boolean;
}): Promise<WebhookResult> {
  const secret = newSecret();
  const { fleet } = options;
  return withStack(
    {
      label: options.split ? 'webhooks-split' : 'webhooks',
      n: fleet,
      receiver: options.split,
      env: { BILLING_WEBHOOK_SECRET: secret, API_RATE_LIMIT: '1000/s' },
    },
    async (stack) => {
      stack.sim.faults.set({ latencyMs: SIM_LATENCY_MS });
      const url = `${stack.daemon.url}/webhooks/billing`;

      // 1. Converged latency, one event at a time on an idle daemon.
      const converged: number[] = [];
      for (let k = 0; k < options.samples; k++) {
        const i = (k * 7919) % fleet;
        const name = `${customerName(i)} (wh ${k})`;
        const { headers, body } = signedRename(secret, customerId(i), name);
        const t0 = performance.now();
        const res = await fetch(url, { method: 'POST', headers, body });
        if (res.status !== 200)
          throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
        await pollUntil(
          async () => stack.sim.store.findByName(name) !== undefined,
          `workspace "${name}"`,
          10_000,
          2,
        );
        converged.push(performance.now() - t0);
        await sleep(10);
      }
      converged.sort((a, b) => a - b);

      // 2. Ack throughput.
      let k = 0;
      const result = await autocannon({
        url: stack.daemon.url,
        connections: options.connections,
        duration: options.durationS,
        requests: [
          {
            method: 'POST',
            path: '/webhooks/billing',
            setupRequest: (request) => {
              const i = (k * 104_729) % fleet;
              const signed = signedRename(secret, customerId(i), `${customerName(i)} (ac ${k++})`);
              return { ...request, headers: signed.headers, body: signed.body };
            },
          },
        ],
      });
      const verified = result['2xx'];
      return {
        split: options.split,
        fleet,
        connections: options.connections,
        durationS: result.duration,
        verified,
        eventsPerSecond: verified / result.duration,
        ackP50Ms: result.latency.p50,
        ackP99Ms: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors,
        convergeSamples: converged.length,
        convergedP50Ms: percentile(converged, 50),
        convergedP99Ms: percentile(converged, 99),
        convergedMaxMs: converged[converged.length - 1] ?? NaN,
      };
    },
  );
}
