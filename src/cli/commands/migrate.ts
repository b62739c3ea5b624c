/** `migrate`: create or upgrade the schema; safe to repeat and to run from several hosts at once. */
import type { Command } from 'commander';
import pg from 'pg';

import { runMigrations } from '../../db/migrate.js';
import {
  installNotifyTriggers,
  showNotifyTable,
  uninstallNotifyTriggers,
} from '../../db/notifyTriggers.js';
import { formatDuration, parseDuration, SECOND } from '../../lib/duration.js';
import { UsageError } from '../../ops/errors.js';
import { checkPostgres } from '../../ops/preflight.js';
import { checkSource, customerSource } from '../../sql/source.js';
import type { CliContext } from '../context.js';

/** How long a change to a user's table waits for its lock before `migrate` gives up. */
const LOCK_TIMEOUT = 5 * SECOND;

interface MigrateOptions {
  uninstallTriggers?: boolean;
  lockTimeout: string;
}

export function registerMigrate(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description(
      'create or upgrade the schema, check CUSTOMERS_SOURCE and install the change trigger on CUSTOMERS_NOTIFY_TABLES; safe to repeat',
    )
    .option('--uninstall-triggers', 'remove the change trigger from the notify tables, and stop')
    .option(
      '--lock-timeout <duration>',
      "how long a change of the trigger waits for a lock on the user's table (0: no limit)",
      formatDuration(LOCK_TIMEOUT),
    )
    .action(async (options: MigrateOptions) => {
      const lockTimeoutMs = parseDuration(options.lockTimeout);
      if (lockTimeoutMs === undefined) {
        throw new UsageError(
          `--lock-timeout: expected a duration such as 5s or 500ms, got ${JSON.stringify(options.lockTimeout)}`,
        );
      }
      const config = ctx.config();
      await checkPostgres(config.databaseUrl);
      if (!options.uninstallTriggers) await runMigrations(config.databaseUrl);
      const client = new pg.Client({
        connectionString: config.databaseUrl,
        application_name: 'customer-sync migrate',
      });
      await client.connect();
      try {
        if (options.uninstallTriggers) {
          const removed = await uninstallNotifyTriggers(client, { lockTimeoutMs });
          ctx.out(
            removed.length === 0
              ? 'no change trigger installed'
              : `change trigger removed from ${removed.join(', ')}`,
          );
          return;
        }
        ctx.out('migrations applied');
        const source = customerSource(config.customersSource);
        const notes = await checkSource(client, source);
        if (!source.own) ctx.out(`source ${source.shown}: id, name, status present`);
        for (const note of notes) ctx.err(`note: ${note}`);
        const tables = config.customersNotifyTables;
        const report = await installNotifyTriggers(client, tables, {
          source: config.customersSource,
          lockTimeoutMs,
        });
        for (const note of report.notes) ctx.err(`note: ${note}`);
        if (report.removed.length > 0) {
          ctx.out(`change trigger removed from ${report.removed.join(', ')}`);
        }
        if (tables.length > 0) {
          const shown = tables.map(showNotifyTable).join(', ');
          ctx.out(
            report.installed.length > 0
              ? `change trigger installed on ${shown}`
              : `change trigger already in place on ${shown}`,
          );
        }
      } finally {
        await client.end();
      }
    });
}
