/** `retry-failed`: queue again every subject whose last sync failed. */
import type { Command } from 'commander';

import { retryFailed } from '../../ops/retryFailed.js';
import type { CliContext } from '../context.js';
import { plural } from '../format.js';

export function registerRetryFailed(program: Command, ctx: CliContext): void {
  program
    .command('retry-failed')
    .description('queue again every customer sync that failed')
    .action(async () => {
      await ctx.withApp(async (app) => {
        const { queued } = await retryFailed(app);
        ctx.out(
          queued === 0
            ? 'no failed syncs'
            : `queued ${plural(queued, 'failed sync')} again (trigger retry)`,
        );
      });
    });
}
