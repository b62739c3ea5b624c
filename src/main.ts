/**
 * `npm start`: the daemon. SIGTERM or SIGINT → stop taking jobs, finish in-flight ones (bounded
 * by SHUTDOWN_TIMEOUT), close everything in reverse order, exit 0. A bad configuration stops it
 * at start with one line naming the variable.
 */
import { startDaemon } from './daemon.js';
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
  const daemon = await startDaemon(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    daemon.app.logger.info({ signal }, 'stopping: finishing in-flight jobs');
    void daemon.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `customer-sync: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
