/** `enqueue <customer-id>... | --all [--status S]`: the manual backfill. */
import cliProgress from 'cli-progress';
import { type Command, Option } from 'commander';

import type { CustomerStatus } from '../../core/types.js';
import { enqueueAll, enqueueCustomers, type EnqueueProgress } from '../../ops/enqueue.js';
import { UsageError } from '../../ops/errors.js';
import type { CliContext } from '../context.js';
import { plural } from '../format.js';

interface EnqueueOptions {
  all?: boolean;
  status?: CustomerStatus;
}

export function registerEnqueue(program: Command, ctx: CliContext): void {
  program
    .command('enqueue')
    .description('queue a sync for each customer named, or for all of them (the manual backfill)')
    .argument('[customer-id...]', 'customer ids')
    .option('--all', 'every customer')
    .addOption(
      new Option('--status <status>', 'with --all: only customers of this status').choices([
        'active',
        'inactive',
        'deleted',
      ]),
    )
    .addHelpText(
      'after',
      '\nSafe to run twice: a customer whose sync is already waiting is not queued again. Unknown ids are reported and not queued (exit 1).',
    )
    .action(async (ids: string[], options: EnqueueOptions) => {
      if (options.all && ids.length > 0)
        throw new UsageError('give customer ids or --all, not both');
      if (!options.all && ids.length === 0)
        throw new UsageError('give one or more customer ids, or --all');
      if (options.status && !options.all) throw new UsageError('--status goes with --all');
      await ctx.withApp(async (app) => {
        const progress = progressReporter(ctx);
        const result = options.all
          ? await enqueueAll(app, {
              ...(options.status ? { status: options.status } : {}),
              onProgress: progress.update,
            })
          : await enqueueCustomers(app, ids, progress.update);
        progress.stop();
        if (result.unknown.length > 0) {
          ctx.err(
            `unknown customer ids (or ids starting with "workspace:", which name orphans), not queued: ${result.unknown.join(', ')}`,
          );
          ctx.exitCode = 1;
        }
        ctx.out(
          `queued ${plural(result.queued, 'customer sync', 'customer syncs')} (trigger enqueue; one already waiting is not queued twice)`,
        );
      });
    });
}

/** A bar on a terminal; otherwise a line per batch once there is more than one batch. */
function progressReporter(ctx: CliContext): {
  update: (p: EnqueueProgress) => void;
  stop: () => void;
} {
  if (ctx.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: 'queueing |{bar}| {value}/{total}',
        stream: ctx.io.stdout as NodeJS.WritableStream,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update: (p) => {
        if (!started) bar.start(p.total, 0);
        started = true;
        bar.setTotal(p.total);
        bar.update(p.done);
      },
      stop: () => started && bar.stop(),
    };
  }
  return {
    update: (p) => {
      if (p.total > 500) ctx.out(`queued ${p.done}/${p.total}`);
    },
    stop: () => {},
  };
}
