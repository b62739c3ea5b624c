/**
 * `npm run demo`: the whole system on one machine with no Airbyte account. Finds Postgres and
 * Redis (DATABASE_URL / REDIS_URL, else the defaults, else embedded servers of its own in
 * `.customer-sync/`), starts the Agent Engine simulator in-process, migrates and resets a demo
 * database and Redis prefix, loads sample customers and one orphan, shows the plan, starts the
 * daemon, runs a sweep with progress, says `converged` once the queue is idle, then keeps running
 * and prints how to poke it. On its embedded servers a restart keeps the last run's state
 * (customers, links, workspaces); `--reset` starts clean.
 * SIGTERM/SIGINT → a clean exit 0. Postgres or Redis unreachable → which, where, how; exit 1.
 */
import { createServer } from 'node:net';

import { type App, createApp } from '../src/app.js';
import type { Services } from '../src/embedded/index.js';
import { type Daemon, startDaemon } from '../src/daemon.js';
import { renderPlan } from '../src/cli/commands/plan.js';
import { createSweepView } from '../src/cli/sweepView.js';
import { ConfigError, loadConfig, readEnvironment } from '../src/config.js';
import { runMigrations } from '../src/db/migrate.js';
import { toError } from '../src/lib/errors.js';
import { createLogger } from '../src/lib/logger.js';
import { UnreachableError } from '../src/ops/errors.js';
import { planSweep } from '../src/ops/plan.js';
import { checkConnections, redact } from '../src/ops/preflight.js';
import { queueSweep, waitForSweep } from '../src/ops/sweep.js';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { converged } from './converged.js';
import { instructions } from './instructions.js';
import { resetPrefix, resetTables } from './reset.js';
import { seedDemo } from './seed.js';
import { demoServices } from './services.js';
import {
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  type DemoSettings,
  demoEnvironment,
  demoSettings,
} from './settings.js';
import { type DemoState, demoState } from './state.js';

const say = (...lines: string[]) => {
  for (const line of lines.length ? lines : ['']) process.stdout.write(`${line}\n`);
};

/** `--reset` or nothing; anything else is a mistake worth a line. */
function parseArgs(args: readonly string[]): { reset: boolean } {
  const unknown = args.filter((a) => a !== '--reset');
  if (unknown.length)
    throw new ConfigError(`unknown argument ${unknown[0]}: expected --reset or nothing`);
  return { reset: args.includes('--reset') };
}

/** The settings on reachable services (embedded ones started), or the exit code of a failure. */
async function services(
  env: Record<string, string | undefined>,
  started: (services: Services) => void,
): Promise<
  { settings: DemoSettings; services: Awaited<ReturnType<typeof demoServices>> } | number
> {
  const wanted = demoSettings(env);
  for (const note of wanted.notes) say(`note: ${note}`);
  try {
    const provided = await demoServices(env, wanted, say);
    started(provided);
    const settings = { ...wanted, databaseUrl: provided.databaseUrl, redisUrl: provided.redisUrl };
    await checkConnections(settings);
    return { settings, services: provided };
  } catch (error) {
    if (!(error instanceof UnreachableError || error instanceof ConfigError)) throw error;
    for (const line of error.message.split('\n')) process.stderr.write(`demo: ${line}\n`);
    return error instanceof ConfigError ? 2 : 1;
  }
}

async function main(): Promise<number> {
  const userEnv = await readEnvironment();
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`demo: ${toError(error).message}\n`);
    return 2;
  }
  // Heard from the start: a signal while the embedded servers start still stops them.
  const cleanup: (() => Promise<void>)[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const close of cleanup.reverse()) await close().catch(() => {});
    say('demo stopped');
    process.exit(code);
  };
  process.once('SIGTERM', () => void stop(0));
  process.once('SIGINT', () => void stop(0));
  const found = await services(userEnv, (provided) => cleanup.push(() => provided.stop()));
  if (typeof found === 'number') {
    for (const close of cleanup.reverse()) await close().catch(() => {});
    return found;
  }
  const { settings, services: provided } = found;

  const sim: Simulator = await startSimulator({
    clientId: DEMO_CLIENT_ID,
    clientSecret: DEMO_CLIENT_SECRET,
  });
  cleanup.push(() => sim.close());
  const port = await freePort(settings.port);
  if (settings.port !== 0 && port !== settings.port)
    say(`note: port ${settings.port} is taken; using ${port}`);
  const env = demoEnvironment(settings, sim.url, port);
  const config = loadConfig(env);
  const logger = createLogger({ level: settings.logLevel, secrets: [DEMO_CLIENT_SECRET] });

  say(`Agent Engine simulator: ${sim.url}`);
  say(
    `Postgres: ${redact(config.databaseUrl)}   Redis: ${redact(config.redisUrl)} (prefix ${config.queuePrefix})`,
  );
  await runMigrations(config.databaseUrl);
  const setup = createApp(config, { logger });
  cleanup.push(() => setup.close());
  // On its own servers the demo keeps its state across restarts; elsewhere each run starts clean.
  const state = provided.embeddedPostgres ? demoState(provided.dir) : undefined;
  if (state) cleanup.push(() => state.save(sim));
  await keepOrSeed(setup, sim, state, { reset: args.reset, dir: provided.dir });

  say('', 'The plan (what the first sweep will do):');
  const plan = await planSweep(setup);
  for (const line of renderPlan(plan, setup.policy, { maxRows: 12 })) say(`  ${line}`);

  // Queued before the daemon starts, so it is the first sweep the daemon runs.
  const sweepId = await queueSweep(setup);
  const daemon: Daemon = await startDaemon(config, { logger });
  cleanup.push(() => daemon.close());
  say('', `daemon listening on ${daemon.url}`, `sweep ${sweepId} queued`);
  const view = createSweepView(process.stdout, process.stderr, { prefix: config.queuePrefix });
  const summary = await waitForSweep(setup, sweepId, { onUpdate: (w) => view.update(w) });
  view.finish(summary);
  say('', await converged(setup));
  await state?.save(sim);
  for (const line of await instructions(daemon, env)) say(line);
  if (process.stdin.isTTY) {
    process.stdin.on(
      'data',
      () => void instructions(daemon, env).then((lines) => lines.forEach((l) => say(l))),
    );
  }
  return -1;
}

/** The last run's state when there is one to keep (and no --reset), else a clean, seeded start. */
async function keepOrSeed(
  setup: App,
  sim: Simulator,
  state: DemoState | undefined,
  options: { reset: boolean; dir: string },
): Promise<void> {
  if (state && !options.reset && (await state.found(setup.pool))) {
    await state.restore(sim);
    say(
      `kept the last run's customers, links and workspaces (in ${options.dir}); \`npm run demo -- --reset\` starts clean`,
    );
    return;
  }
  await state?.clear();
  await resetTables(setup.pool);
  await resetPrefix(setup.config.redisUrl, setup.config.queuePrefix);
  const { customers } = await seedDemo(setup.pool, sim);
  say(
    `loaded ${customers} sample customers (4 inactive, 1 deleted, 2 named "Acme Corp") and 1 orphan workspace`,
  );
}

/** `wanted` when it is free on 127.0.0.1, else an ephemeral port (0 asks for one). */
function freePort(wanted: number): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(wanted === 0 ? 0 : freePort(0)));
    server.listen(wanted, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : wanted;
      server.close(() => resolve(port));
    });
  });
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`demo: ${toError(error).message}\n`);
    process.exit(1);
  },
);
