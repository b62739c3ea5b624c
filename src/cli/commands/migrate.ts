/** `migrate`: create or upgrade the schema; safe to repeat and to run from several hosts at once. */
import type { Command } from 'commander';
import pg from 'pg';

import { runMigrations } from '../../db/migrate.js';
import {
  installNotifyTriggers,
  showNotifyTable,
  uninstallNotifyTriggers,
} from '../../db/notifyTriggers.js';
import { checkPostgres } from '../../ops/preflight.js';
import { checkSource, customerSource } from '../../sql/source.js';
import type { CliContext } from '../context.js';

export function registerMigrate(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description(
      'create or upgrade the schema, check CUSTOMERS_SOURCE and install the change trigger on CUSTOMERS_NOTIFY_TABLES; safe to repeat',
    )
    .option('--uninstall-triggers', 'remove the change trigger from the notify tables, and stop')
    .action(async (options: { uninstallTriggers?: boolean }) => {
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
          const removed = await uninstallNotifyTriggers(client);
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
        await installNotifyTriggers(client, config.customersNotifyTables);
        if (config.customersNotifyTables.length > 0) {
          const shown = config.customersNotifyTables.map(showNotifyTable).join(', ');
          ctx.out(`change trigger installed on ${shown}`);
        }
      } finally {
        await client.end();
      }
    });
}
