/**
 * One benchmark stack: its own database, Redis prefix and in-process simulator, a seeded fleet,
 * and a daemon child process. Torn down in reverse order whatever happens, so a failed run leaves
 * nothing behind on the shared machine.
 */
import { Redis } from 'ioredis';

import { HOUR } from '../src/lib/duration.js';
import { createQueues, type Queues, SWEEP_SCHEDULER_ID } from '../src/sync/queues.js';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { type DaemonProcess, startDaemon } from './daemon.js';
import { seedFleet } from './fleet.js';
import { type BenchDb, createBenchDb, deletePrefix, randomTag, REDIS_URL } from './infra.js';

export const CLIENT_ID = 'bench-client-id';
export const CLIENT_SECRET = 'bench-client-secret-8c1e';

export interface Stack {
  readonly n: number;
  readonly db: BenchDb;
  readonly sim: Simulator;
  /** The daemon the benchmark talks to (a receiver when `receiver` was asked for). */
  readonly daemon: DaemonProcess;
  readonly queues: Queues;
  readonly prefix: string;
}

export interface StackOptions {
  readonly label: string;
  readonly n: number;
  /** Daemon environment on top of the stack's own (database, Redis, simulator, credentials). */
  readonly env?: Record<string, string>;
  readonly cpuProfDir?: string;
  /**
   * Start the daemon as a receiver (`WORKER_CONCURRENCY=0`) and a second daemon that runs the
   * workers: receivers and workers apart, as they would be on separate hosts.
   */
  readonly receiver?: boolean;
  /** Seed the customers only: no workspace exists yet (a first sweep's organization). */
  readonly emptyOrganization?: boolean;
  /** Seed the customers and their workspaces, but no links (a first sweep adopts them). */
  readonly unlinked?: boolean;
}

export async function withStack<T>(
  options: StackOptions,
  use: (s: Stack) => Promise<T>,
): Promise<T> {
  const undo: (() => Promise<unknown>)[] = [];
  // `--cpu-prof` (bench/main.ts) profiles every daemon into one directory.
  const cpuProfDir = options.cpuProfDir ?? process.env.BENCH_CPU_PROF_DIR;
  try {
    const db = await createBenchDb(options.label);
    undo.push(() => db.drop());
    const sim = await startSimulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    undo.push(() => sim.close());
    await seedFleet(db.pool, sim, options.n, {
      workspaces: !options.emptyOrganization,
      links: !options.unlinked,
    });
    const prefix = `cs-bench-${options.label}-${randomTag()}`;
    undo.push(() => deletePrefix(prefix));
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
    undo.push(async () => redis.disconnect());
    const queues = createQueues(redis, prefix);
    undo.push(() => queues.close());
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      AGENT_ENGINE_URL: sim.url,
      AGENT_ENGINE_CLIENT_ID: CLIENT_ID,
      AGENT_ENGINE_CLIENT_SECRET: CLIENT_SECRET,
      SWEEP_EVERY: '1h',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT: '5s',
      ...options.env,
    };
    const profile = cpuProfDir ? { cpuProfDir } : {};
    const daemon = await startQuietly(queues, {
      env: options.receiver ? { ...env, WORKER_CONCURRENCY: '0' } : env,
      ...profile,
    });
    undo.push(() => daemon.stop());
    if (options.receiver) {
      const workers = await startDaemon({ env, ...profile });
      undo.push(() => workers.stop());
    }
    sim.stats.reset();
    return await use({ n: options.n, db, sim, daemon, queues, prefix });
  } finally {
    for (const step of undo.reverse()) await step().catch(() => {});
  }
}

/**
 * A fresh schedule runs its first sweep at once (BullMQ `every`), after a random jitter of up to
 * 30 s, and the benchmark's own sweeps would queue behind it. So the schedule is created first,
 * here, starting an hour from now; the daemon's own upsert keeps that start.
 */
async function startQuietly(
  queues: Queues,
  options: Parameters<typeof startDaemon>[0],
): Promise<DaemonProcess> {
  await queues.sweep.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { every: HOUR, startDate: Date.now() + HOUR },
    { name: 'sweep', data: { trigger: 'schedule' } },
  );
  return startDaemon(options);
}
