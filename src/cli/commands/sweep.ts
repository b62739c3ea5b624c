/** `sweep [--wait]`: queue a full sweep now; with `--wait`, follow it to the end. */
import type { Command } from 'commander';

import { queueSweep, waitForSweep } from '../../ops/sweep.js';
import type { CliContext } from '../context.js';
import { createSweepView } from '../sweepView.js';

export function registerSweep(program: Command, ctx: CliContext): void {
  program
    .command('sweep')
    .description('queue a full sweep now (a running daemon carries it out)')
    .option('--wait', 'show progress and return when the sweep and every sync it queued have ended')
    .addHelpText(
      'after',
      '\nExit codes with --wait: 0 all done; 1 some syncs failed, changes were held, or the listing was incomplete; 2 could not start.',
    )
    .action(async (options: { wait?: boolean }) => {
      await ctx.withApp(async (app) => {
        const sweepId = await queueSweep(app);
        ctx.out(`sweep ${sweepId} queued`);
        if (!options.wait) return;
        const view = createSweepView(ctx.io.stdout, ctx.io.stderr, {
          prefix: app.config.queuePrefix,
        });
        const abort = new AbortController();
        const interrupt = () => abort.abort();
        process.once('SIGINT', interrupt);
        try {
          const summary = await waitForSweep(app, sweepId, {
            onUpdate: (w) => view.update(w),
            signal: abort.signal,
          });
          view.finish(summary);
          ctx.exitCode = summary.exitCode;
        } catch (error) {
          view.stop();
          if (!abort.signal.aborted) throw error;
          ctx.err(`stopped waiting; sweep ${sweepId} goes on (see \`status\`)`);
          ctx.exitCode = 1;
        } finally {
          process.off('SIGINT', interrupt);
        }
      });
    });
}
