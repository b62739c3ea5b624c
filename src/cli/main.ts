#!/usr/bin/env node
/**
 * The operator CLI (`npm run cli -- <command>`). Commands share the daemon's code through the
 * composition root; exit codes: 0 done, 1 some failed or held, 2 could not start / bad usage.
 */
import { Command, CommanderError } from 'commander';

import { ConfigError, loadConfig, readEnvironment } from '../config.js';
import { runMigrations } from '../db/migrate.js';

export async function runCli(argv: readonly string[]): Promise<number> {
  const env = await readEnvironment();
  const program = new Command('customer-sync')
    .description('Keeps Airbyte Agent Engine workspaces in step with your customers table.')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const exitCode = 0;
  program
    .command('migrate')
    .description(
      'create or upgrade the schema; safe to repeat and to run from several hosts at once',
    )
    .action(async () => {
      const config = loadConfig(env);
      await runMigrations(config.databaseUrl);
      process.stdout.write('migrations applied\n');
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`customer-sync: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(
      `customer-sync: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 2;
  }
  return exitCode;
}

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
