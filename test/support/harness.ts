/**
 * An isolated customer-sync for one test: its own database (cloned from the template), its own
 * queue prefix on the shared Redis, its own Agent Engine simulator over loopback HTTP. Logs are
 * captured in memory so tests can read them (and check no secret ever reached them).
 */
import { type ChildProcess, spawn } from 'node:child_process';

import { createApp, type App, type AppOptions } from '../../src/app.js';
import { type Daemon, startDaemon } from '../../src/daemon.js';
import { SWEEP_SCHEDULER_ID } from '../../src/sync/queues.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/lib/logger.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../simulator/index.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { logLines } from './logLines.js';
import { deletePrefix, type RedisMode, redisUrl, uniquePrefix } from './redis.js';
import { waitFor } from './wait.js';

export const CLIENT_ID = 'test-client-id';
export const CLIENT_SECRET = 'test-client-secret-3f9a1c';

export interface Harness extends AsyncDisposable {
  readonly sim: Simulator;
  readonly database: TestDatabase;
  readonly config: Config;
  /** The environment that gives `config`: for daemons started as child processes. */
  readonly env: Readonly<Record<string, string>>;
  readonly prefix: string;
  /** One Redis server, or the test Redis Cluster. */
  readonly redis: RedisMode;
  /** Every log line written by anything this harness started. */
  readonly logs: string[];
  readonly logger: Logger;
  /** A CLI-like app (no workers) sharing this harness's database, Redis prefix and simulator. */
  app(): App;
  /** An in-process daemon; `env` overrides the harness's environment for this daemon only. */
  startDaemon(options?: AppOptions, env?: Record<string, string>): Promise<Daemon>;
  /**
   * `npm start` as a child process with this harness's environment (logs at warn, discarded);
   * SIGKILLed at close if still running.
   */
  spawnDaemon(extraEnv?: Record<string, string>): Promise<ChildProcess>;
  /** Inserts customers; statuses default to active. */
  customers(rows: { id: string; name: string; status?: string; createdAt?: Date }[]): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly env?: Record<string, string>;
  readonly sim?: SimulatorOptions;
  /** One Redis server (default) or the test Redis Cluster, with a hash-tagged prefix. */
  readonly redis?: RedisMode;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const mode = options.redis ?? 'single';
  const database = await createTestDatabase();
  const sim = await startSimulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    ...options.sim,
  });
  const prefix = uniquePrefix('h', mode);
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl(mode),
    QUEUE_PREFIX: prefix,
    AGENT_ENGINE_URL: sim.url,
    AGENT_ENGINE_CLIENT_ID: CLIENT_ID,
    AGENT_ENGINE_CLIENT_SECRET: CLIENT_SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    SWEEP_EVERY: '1h',
    API_RATE_LIMIT: '2000/s',
    SYNC_BACKOFF: '20ms',
    LOG_LEVEL: 'debug',
    LOCK_DURATION: '5s',
    ...options.env,
  };
  const config = loadConfig(env);
  const { lines: logs, destination: sink } = logLines();
  const logger = createLogger({
    level: config.logLevel,
    destination: sink,
    secrets: [CLIENT_SECRET],
  });
  const opened: { close(): Promise<void> }[] = [];
  const children: ChildProcess[] = [];
  let scheduled = false;
  // The schedule's first sweep one interval from now, not at start: tests choose when to sweep.
  // (A daemon's own upsert keeps an existing schedule's next run.)
  const scheduleAhead = async () => {
    if (scheduled) return;
    scheduled = true;
    await harness
      .app()
      .queues.sweep.upsertJobScheduler(
        SWEEP_SCHEDULER_ID,
        { every: config.sweepEveryMs, startDate: Date.now() + config.sweepEveryMs },
        { name: 'sweep', data: { trigger: 'schedule' } },
      );
  };
  const harness: Harness = {
    sim,
    database,
    config,
    env,
    prefix,
    redis: mode,
    logs,
    logger,
    app: () => {
      const app = createApp(config, { logger });
      opened.push(app);
      return app;
    },
    startDaemon: async (extra = {}, overrides) => {
      await scheduleAhead();
      const own = overrides ? loadConfig({ ...env, ...overrides }) : config;
      const started = await startDaemon(own, { logger, ...extra });
      const close = async () => {
        liveDaemons.delete(daemon);
        await started.close();
      };
      const daemon: Daemon = { ...started, close, [Symbol.asyncDispose]: close };
      liveDaemons.add(daemon);
      opened.push(daemon);
      return daemon;
    },
    spawnDaemon: async (extraEnv = {}) => {
      await scheduleAhead();
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: { ...process.env, ...env, LOG_LEVEL: 'warn', ...extraEnv },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.resume();
      children.push(child);
      return child;
    },
    customers: async (rows) => {
      for (let i = 0; i < rows.length; i += 1000) {
        const chunk = rows.slice(i, i + 1000);
        await database.pool.query(
          `insert into customers (id, name, status, created_at)
           select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])`,
          [
            chunk.map((r) => r.id),
            chunk.map((r) => r.name),
            chunk.map((r) => r.status ?? 'active'),
            chunk.map((r, j) => r.createdAt ?? new Date(Date.UTC(2026, 0, 1) + i + j)),
          ],
        );
      }
    },
    close: async () => {
      for (const child of children.splice(0)) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      for (const item of opened.reverse()) await item.close().catch(() => {});
      // Every harness-based test is also a leak test: no secret or token in any log line.
      const leaked = logs.find(
        (line) => line.includes(CLIENT_SECRET) || /eyJ[\w-]+\.[\w-]+\.[\w-]+/.test(line),
      );
      await sim.close();
      await deletePrefix(prefix, mode);
      await database.drop();
      if (leaked) throw new Error(`a secret or token reached a log line: ${leaked.slice(0, 200)}`);
    },
    [Symbol.asyncDispose]: () => harness.close(),
  };
  return harness;
}

/** The in-process daemons not yet closed, whose change listeners `waitForIdle` settles first. */
const liveDaemons = new Set<Daemon>();

/**
 * Waits until every direct write committed so far has been queued by each running daemon, then
 * until the sync queue has nothing waiting, active or delayed, and no sweep is running. (Without
 * the first step a write made just before the call is still being gathered, the queues look idle,
 * and the test reads the Agent Engine before the write's sync has even been queued.)
 */
export async function waitForIdle(app: App, timeoutMs = 60_000): Promise<void> {
  await Promise.all([...liveDaemons].map((daemon) => daemon.directWritesQueued()));
  await waitFor(
    async () => {
      const sync = await app.queues.sync.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'prioritized',
        'waiting-children',
      );
      const sweep = await app.queues.sweep.getJobCounts('waiting', 'active');
      const due = await app.queues.due.getJobCounts('waiting', 'active');
      const busy = [sync, sweep, due].flatMap((c) => Object.values(c)).reduce((a, b) => a + b, 0);
      return busy === 0;
    },
    { timeoutMs, what: 'queues to drain', intervalMs: 100 },
  );
}
