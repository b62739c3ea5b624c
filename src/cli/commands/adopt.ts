/** `adopt <customer-id> [<workspace-id>]`: a person links a customer to an unlinked workspace. */
import type { Command } from 'commander';

import { adoptWorkspace } from '../../ops/adopt.js';
import type { CliContext } from '../context.js';

export function registerAdopt(program: Command, ctx: CliContext): void {
  program
    .command('adopt')
    .description(
      'link the customer to the unlinked workspace of its name (or the id given): a workspace reported as an orphan is adopted only this way',
    )
    .argument('<customer-id>', 'the customer id')
    .argument('[workspace-id]', 'the workspace to adopt; default: the one named as the customer')
    .option('--json', 'print only JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 adopted; 2 unknown customer or workspace, or already linked.',
    )
    .action(async (id: string, workspaceId: string | undefined, options: { json?: boolean }) => {
      await ctx.withApp(async (app) => {
        const adopted = await adoptWorkspace(app, id, workspaceId, { by: 'cli' });
        if (options.json) {
          ctx.json(adopted);
          return;
        }
        const { workspace: ws } = adopted;
        ctx.out(
          `customer ${id} adopted workspace ${ws.id} ("${ws.name}", ${ws.status}); queued its sync (trigger adopt)`,
        );
      });
    });
}
