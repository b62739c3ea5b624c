/**
 * `npm run bench` (full) and `npm run bench -- --quick` (under two minutes): steady sweeps against
 * their lower bound, a drifted sweep under a rate limit, the naive peer, and the webhook path, all
 * over loopback HTTP with real Postgres and Redis and the daemon as a child process. Prints a
 * table and writes everything measured to `bench/results/<timestamp>.json`.
 *
 * Options: `--quick`; `--only=startup,steady,drift,first,backfill,webhooks` (`first`: the first
 * sweep over an empty organization, then the adoption of an unlinked one); `--cpu-prof` (every
 * daemon writes a V8 CPU profile into bench/results/prof/). Speed is measured here and never
 * asserted in a test.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

import pg from 'pg';

import { PG_BASE } from './infra.js';
import { formatTable, type Results, rowsOf } from './report.js';
import { backfill } from './scenarios/backfill.js';
import { driftedSweep } from './scenarios/drift.js';
import { adoption } from './scenarios/adoption.js';
import { firstSweep } from './scenarios/firstSweep.js';
import { STEADY_RATE_LIMIT, steadySweep, type SteadyResult } from './scenarios/steady.js';
import { startup } from './scenarios/startup.js';
import { webhooks } from './scenarios/webhooks.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const wants = (name: string) => !only || only.includes(name);
if (args.includes('--cpu-prof')) {
  process.env.BENCH_CPU_PROF_DIR = new URL('./results/prof/', import.meta.url).pathname;
}

const PLAN = quick
  ? {
      steady: [10_000, 50_000],
      naiveN: 10_000,
      driftN: 30_000,
      firstN: 2_000,
      adoptN: 1_000,
      backfillN: 10_000,
      backfillSamples: 20,
      webhookS: 5,
      samples: 40,
    }
  : {
      steady: [10_000, 100_000, 1_000_000],
      naiveN: 10_000,
      driftN: 100_000,
      firstN: 10_000,
      adoptN: 5_000,
      backfillN: 10_000,
      backfillSamples: 60,
      webhookS: 10,
      samples: 100,
    };
const DRIFT_RATE_LIMIT = 100;
const BACKFILL_RATE_LIMIT = 20;
const FIRST_RATE_LIMIT = 1000;

async function machine() {
  const client = new pg.Client({ connectionString: PG_BASE });
  await client.connect();
  const { rows } = await client.query<{ v: string }>(
    "select current_setting('server_version') as v",
  );
  await client.end();
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres: rows[0]?.v ?? 'unknown',
    loadAverageAtStart: os.loadavg(),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const host = await machine();
  const log = (text: string) =>
    process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${text}\n`);
  log(
    `${quick ? 'quick' : 'full'} run on ${host.cpus} × ${host.cpuModel}, load ${host.loadAverageAtStart.map((l) => l.toFixed(1)).join(' ')}`,
  );

  let results: Results = { steady: [] };
  if (wants('startup')) {
    log('start-up: the CLI to a printed status, the daemon idle');
    results = { ...results, startup: await startup() };
  }
  const steady: SteadyResult[] = [];
  if (wants('steady')) {
    for (const n of PLAN.steady) {
      log(`steady sweep at N=${n}${n === PLAN.naiveN ? ' (+ naive peer)' : ''}`);
      steady.push(await steadySweep(n, { naive: n === PLAN.naiveN }));
    }
  }
  results = { ...results, steady };
  if (wants('drift')) {
    log(`drifted sweep at N=${PLAN.driftN}, API_RATE_LIMIT=${DRIFT_RATE_LIMIT}/s`);
    results = { ...results, drift: await driftedSweep(PLAN.driftN, DRIFT_RATE_LIMIT) };
  }
  if (wants('first')) {
    log(
      `first sweep over an empty organization at N=${PLAN.firstN}, API_RATE_LIMIT=${FIRST_RATE_LIMIT}/s`,
    );
    results = { ...results, first: await firstSweep(PLAN.firstN, FIRST_RATE_LIMIT) };
    log(`adoption of N=${PLAN.adoptN} unlinked workspaces, API_RATE_LIMIT=${FIRST_RATE_LIMIT}/s`);
    results = { ...results, adoption: await adoption(PLAN.adoptN, FIRST_RATE_LIMIT) };
  }
  if (wants('backfill')) {
    log(`a webhook during a ${PLAN.backfillN}-customer backfill at ${BACKFILL_RATE_LIMIT}/s`);
    results = {
      ...results,
      backfill: await backfill({
        fleet: PLAN.backfillN,
        samples: PLAN.backfillSamples,
        rateLimit: BACKFILL_RATE_LIMIT,
      }),
    };
  }
  if (wants('webhooks')) {
    for (const split of [false, true]) {
      log(
        `webhooks${split ? ' (receiver + worker daemons)' : ''}: ${PLAN.samples} converged samples, then autocannon for ${PLAN.webhookS} s`,
      );
      const measured = await webhooks({
        fleet: 10_000,
        durationS: PLAN.webhookS,
        samples: PLAN.samples,
        connections: 16,
        split,
      });
      results = { ...results, [split ? 'webhooksSplit' : 'webhooks']: measured };
    }
  }

  const rows = rowsOf(results);
  const table = formatTable(rows);
  const at = new Date().toISOString();
  const file = new URL(`./results/${at.replace(/[:.]/g, '-')}.json`, import.meta.url);
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  const totalS = (performance.now() - started) / 1000;
  await writeFile(
    file,
    `${JSON.stringify(
      {
        at,
        mode: quick ? 'quick' : 'full',
        command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
        machine: { ...host, loadAverageAtEnd: os.loadavg() },
        settings: {
          steadyRateLimit: STEADY_RATE_LIMIT,
          driftRateLimit: `${DRIFT_RATE_LIMIT}/s`,
          backfillRateLimit: `${BACKFILL_RATE_LIMIT}/s`,
          firstRateLimit: `${FIRST_RATE_LIMIT}/s`,
          ...PLAN,
        },
        totalSeconds: totalS,
        results,
        table: rows,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`${table}\n\n`);
  process.stdout.write(
    `${host.cpus} × ${host.cpuModel}, ${host.memoryGiB} GiB, Node ${host.node}, Postgres ${host.postgres}; load average ${host.loadAverageAtStart.map((l) => l.toFixed(1)).join(' ')} at start. ${totalS.toFixed(0)} s in all.\n`,
  );
  process.stdout.write(`written to ${file.pathname}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
