/**
 * `npm start`: the daemon. SIGTERM or SIGINT → stop taking jobs, finish in-flight ones (bounded
 * by SHUTDOWN_TIMEOUT), close everything in reverse order, exit 0. A bad configuration stops it
 * at start with one line naming the variable. With `EMBEDDED=1` (never with NODE_ENV=production),
 * an unset DATABASE_URL or REDIS_URL with nothing answering at its default gets a server of our
 * own in `.customer-sync/` (migrated at start), stopped after the daemon.
 */
import { type Daemon, startDaemon } from './daemon.js';
import {
  type Config,
  ConfigError,
  DEFAULT_DATABASE_URL,
  DEFAULT_REDIS_URL,
  loadConfig,
  readEnvironment,
  servicesSettings,
} from './config.js';
import type { Services } from './embedded/index.js';

const say = (line: string) => process.stderr.write(`customer-sync: ${line}\n`);

/** The configuration, with embedded servers started first when asked for and needed. */
async function configure(): Promise<{ config: Config; services?: Services }> {
  const env = await readEnvironment();
  let config = loadConfig(env);
  const settings = servicesSettings(env);
  if (!settings.embedded) return { config };
  // Loaded only here: a daemon on real services holds neither the embedded servers' code nor
  // drizzle's migrator (an idle daemon's memory).
  const [{ provideServices }, { runMigrations }] = await Promise.all([
    import('./embedded/index.js'),
    import('./db/migrate.js'),
  ]);
  const services = await provideServices({
    databaseUrl: settings.databaseUrl,
    redisUrl: settings.redisUrl,
    defaultDatabaseUrl: DEFAULT_DATABASE_URL,
    defaultRedisUrl: DEFAULT_REDIS_URL,
    defaultsClosed: settings.defaultsClosed,
    embedded: true,
    dir: settings.dir,
    say,
  });
  try {
    config = loadConfig({
      ...env,
      DATABASE_URL: services.databaseUrl,
      REDIS_URL: services.redisUrl,
    });
    if (services.embeddedPostgres) await runMigrations(config.databaseUrl);
  } catch (error) {
    await services.stop();
    throw error;
  }
  return { config, services };
}

async function main(): Promise<void> {
  let configured;
  try {
    configured = await configure();
  } catch (error) {
    if (error instanceof ConfigError) {
      say(error.message);
      process.exit(2);
    }
    throw error;
  }
  const { config, services } = configured;
  // Signals are heard from the start: one that arrives while the daemon is still starting (its
  // workers may already hold jobs) stops it gracefully as soon as it is up, never half-way.
  let daemon: Daemon | undefined = undefined;
  let stopping: string | undefined;
  const stop = (running: Daemon, signal: string) => {
    running.app.logger.info({ signal }, 'stopping: finishing in-flight jobs');
    void running
      .close()
      .then(() => services?.stop())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = signal;
    if (daemon) stop(daemon, signal);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  daemon = await startDaemon(config);
  if (stopping) stop(daemon, stopping);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `customer-sync: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
