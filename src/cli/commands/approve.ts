/** `approve <sweep-id> | <hold-id> | --all`: release held destructive changes. */
import type { Command } from 'commander';

import { approvalTarget, approve } from '../../ops/approve.js';
import { UsageError } from '../../ops/errors.js';
import type { CliContext } from '../context.js';
import { plural } from '../format.js';

export function registerApprove(program: Command, ctx: CliContext): void {
  program
    .command('approve')
    .description('release the destructive changes a sweep held (or one hold, or all of them)')
    .argument('[id]', 'a sweep id, or a hold id (digits), as `status` lists them')
    .option('--all', 'every held change')
    .action(async (id: string | undefined, options: { all?: boolean }) => {
      const target = approvalTarget(id, Boolean(options.all));
      if (!target) throw new UsageError('give a sweep id, a hold id, or --all (one of them)');
      await ctx.withApp(async (app) => {
        const result = await approve(app, target);
        for (const d of result.dropped)
          ctx.out(`dropped hold ${d.holdId}: ${d.action} ${d.subject} (${d.why})`);
        if (result.approved.length === 0) {
          ctx.out(
            result.dropped.length > 0
              ? `no change approved: ${plural(result.dropped.length, 'hold')} no longer called for, dropped`
              : 'nothing held there: no change approved',
          );
          return;
        }
        for (const a of result.approved)
          ctx.out(`approved hold ${a.holdId}: ${a.action} ${a.subject}`);
        ctx.out(
          `approved ${plural(result.approved.length, 'change')}; queued ${plural(result.queued, 'sync')} (trigger approve)` +
            (result.dropped.length > 0
              ? `; dropped ${result.dropped.length} no longer called for`
              : ''),
        );
      });
    });
}
