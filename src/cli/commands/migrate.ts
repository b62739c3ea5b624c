/** `migrate`: create or upgrade the schema; safe to repeat and to run from several hosts at once. */
import type { Command } from 'commander';

import { runMigrations } from '../../db/migrate.js';
import { checkPostgres } from '../../ops/preflight.js';
import type { CliContext } from '../context.js';

export function registerMigrate(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description(
      'create or upgrade the schema; safe to repeat and to run from several hosts at once',
    )
    .action(async () => {
      const config = ctx.config();
      await checkPostgres(config.databaseUrl);
      await runMigrations(config.databaseUrl);
      ctx.out('migrations applied');
    });
}
