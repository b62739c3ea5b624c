/** `explain <customer-id> [--json]`: why is this customer (not) in step? */
import type { Command } from 'commander';

import { describeRegion } from '../../core/region.js';
import { type Explanation, explainCustomer } from '../../ops/explain.js';
import type { CliContext } from '../context.js';
import { cell, formatTime, fromTo, table } from '../format.js';

export function registerExplain(program: Command, ctx: CliContext): void {
  program
    .command('explain')
    .description(
      "the customer's row, link, live workspace, last audit rows, and what a sync would do now",
    )
    .argument('<customer-id>', 'the customer id')
    .option('--json', 'print only JSON')
    .option(
      '--audit <n>',
      'how many audit rows',
      (v) => Math.max(1, Number.parseInt(v, 10) || 10),
      10,
    )
    .addHelpText('after', '\nExit codes: 0 explained; 2 unknown customer.')
    .action(async (id: string, options: { json?: boolean; audit: number }) => {
      await ctx.withApp(async (app) => {
        const explanation = await explainCustomer(app, id, { auditRows: options.audit });
        if (options.json) ctx.json(explanation);
        else ctx.out(...renderExplanation(explanation));
      });
    });
}

/** The readable explanation, step by step, like an on-demand provisioning run. */
export function renderExplanation(e: Explanation, now = Date.now()): string[] {
  const { customer: c, link, workspace: ws, wouldDo } = e;
  const lines = [
    `Customer ${c.id}: ${c.name.trim() === '' ? 'no name' : `"${c.name}"`}, ${c.status}, created ${formatTime(c.createdAt, now)}`,
    link
      ? `Link: workspace ${link.workspaceId} (last known name "${link.workspaceName}")` +
        (link.deletedSeenAt
          ? `; seen deleted ${formatTime(link.deletedSeenAt, now)}, delete due ${formatTime(link.deleteDueAt, now)}`
          : '')
      : 'Link: none (no workspace known for this customer yet)',
    link
      ? ws
        ? `Workspace now (API): "${ws.name}", ${ws.status}, updated ${ws.updatedAt}`
        : 'Workspace now (API): not found — deleted or never existed'
      : 'Workspace now (API): — (no link to look up)',
    `Region: ${describeRegion(e.region, link !== null)}`,
    e.lastSync
      ? `Last sync: ${e.lastSync.outcome} ${formatTime(e.lastSync.at, now)} after ${e.lastSync.attempts} attempt(s)` +
        (e.lastSync.reason ? ` — ${e.lastSync.kind ?? ''} ${e.lastSync.reason}` : '')
      : 'Last sync: never',
  ];
  if (e.holds.length > 0) {
    for (const h of e.holds)
      lines.push(
        `Held: hold ${h.holdId} ${h.action} (sweep ${h.sweepId ?? '— window limit'}); release with \`approve ${h.holdId}\``,
      );
  }
  lines.push('', 'A sync now would:');
  if (wouldDo.conflict) lines.push(`  fail: ${wouldDo.conflict.reason}`);
  else if (wouldDo.changes.length === 0) lines.push('  do nothing: in step');
  for (const ch of wouldDo.changes)
    lines.push(`  ${ch.action} ${cell(ch.workspaceId)}: ${fromTo(ch.from, ch.to)}`);
  lines.push('', `Last audit rows (${e.audit.length}):`);
  if (e.audit.length === 0) lines.push('  none');
  else
    lines.push(
      ...table(
        ['AT', 'TRIGGER', 'ACTION', 'FROM → TO', 'OUTCOME', 'MESSAGE'],
        e.audit.map((a) => [
          formatTime(a.at, now),
          a.trigger,
          a.action,
          fromTo(a.before, a.after),
          a.outcome,
          cell(a.message),
        ]),
      ).map((l) => `  ${l}`),
    );
  return lines;
}
