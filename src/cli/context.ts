/**
 * What every command gets: where to write, the environment, and `withApp`, which loads the
 * configuration, checks that Postgres and Redis answer, builds the app (logs to stderr, so
 * stdout holds only the command's output) and always closes it.
 */
import type { App } from '../app.js';
import { type Config, loadConfig, secretsOf } from '../config.js';
import { createLogger } from '../lib/logger.js';
import { checkConnections } from '../ops/preflight.js';

/** A stream the CLI writes to; `isTTY` decides between progress bars and plain lines. */
export interface CliStream {
  write(chunk: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** The CLI's surroundings: the real process in `main.ts`, captured streams in tests. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: CliStream;
  readonly stderr: CliStream;
}

export class CliContext {
  /** The exit code the command asks for (0 unless it sets one; errors are mapped in `program.ts`). */
  exitCode = 0;
  constructor(readonly io: CliIo) {}

  /** One line (or several) to stdout. */
  out(...lines: string[]): void {
    for (const line of lines) this.io.stdout.write(`${line}\n`);
  }

  /** One line to stderr: warnings and notes that must not pollute `--json` output. */
  err(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  /** The whole result as JSON, and nothing else, on stdout. */
  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  get isTTY(): boolean {
    return Boolean(this.io.stdout.isTTY);
  }

  config(): Config {
    return loadConfig(this.io.env);
  }

  /** Runs `fn` with a connected app, closing it however `fn` ends. */
  async withApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
    const config = this.config();
    await checkConnections(config);
    const secrets = secretsOf(config);
    // The CLI's own output says what happened; info logs only when LOG_LEVEL asks for them.
    const level = this.io.env.LOG_LEVEL ? config.logLevel : 'warn';
    const logger = createLogger({ level, secrets, destination: this.io.stderr });
    // Loaded here, not at the top: `--help` and bad usage answer without loading the whole app.
    const { createApp } = await import('../app.js');
    const app = createApp(config, { logger });
    try {
      return await fn(app);
    } finally {
      await app.close();
    }
  }
}
