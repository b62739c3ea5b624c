/**
 * `npm start`: the daemon. SIGTERM or SIGINT → stop taking jobs, finish in-flight ones (bounded
 * by SHUTDOWN_TIMEOUT), close everything in reverse order, exit 0. A bad configuration stops it
 * at start with one line naming the variable.
 */
import { type Daemon, startDaemon } from './daemon.js';
import { ConfigError, loadConfig, readEnvironment } from './config.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(await readEnvironment());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`customer-sync: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // Signals are heard from the start: one that arrives while the daemon is still starting (its
  // workers may already hold jobs) stops it gracefully as soon as it is up, never half-way.
  let daemon: Daemon | undefined = undefined;
  let stopping: string | undefined;
  const stop = (running: Daemon, signal: string) => {
    running.app.logger.info({ signal }, 'stopping: finishing in-flight jobs');
    void running.close().then(
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
