/** `plan [--json] [--customer ID]`: what a sweep would do now; changes nothing. */
import type { Command } from 'commander';

import type { Policy } from '../../core/planner.js';
import { planSweep, type PlanResult } from '../../ops/plan.js';
import type { CliContext } from '../context.js';
import { cell, countList, fromTo, plural, table } from '../format.js';

export function registerPlan(program: Command, ctx: CliContext): void {
  program
    .command('plan')
    .description('read both sides and print what a sweep would do now, changing nothing')
    .option('--json', 'print only JSON: {"changes": [...], "orphans": [...], "held": bool, ...}')
    .option('--customer <id>', "only this customer's changes")
    .action(async (options: { json?: boolean; customer?: string }) => {
      await ctx.withApp(async (app) => {
        const plan = await planSweep(
          app,
          options.customer === undefined ? {} : { customerId: options.customer },
        );
        if (options.json) ctx.json(plan);
        else ctx.out(...renderPlan(plan, app.policy));
      });
    });
}

const ACTIONS = ['create', 'adopt', 'rename', 'activate', 'deactivate', 'delete'];

/** The readable plan: a table of changes, then conflicts, orphans and whether it would be held. */
export function renderPlan(
  plan: PlanResult,
  policy: Policy,
  options: { maxRows?: number } = {},
): string[] {
  const { counts } = plan;
  const lines = [
    `Plan: ${plural(plan.changes.length, 'change')} for ${plural(counts.customers ?? 0, 'customer')} and ${plural(counts.workspaces ?? 0, 'workspace')}` +
      (plan.listingComplete
        ? ''
        : ` — LISTING INCOMPLETE (${plan.error ?? 'error'}): nothing destructive planned`),
    '',
  ];
  if (plan.changes.length === 0) lines.push('No changes: every workspace is in step.');
  else {
    lines.push(`Changes (${countList(countBy(plan.changes.map((c) => c.action)), ACTIONS)}):`);
    const shown = plan.changes.slice(0, options.maxRows ?? plan.changes.length);
    const rows = shown.map((c) => [
      c.action,
      cell(c.customerId ?? '(orphan)'),
      cell(c.workspaceId),
      fromTo(c.from, c.to),
    ]);
    lines.push(
      ...table(['ACTION', 'CUSTOMER', 'WORKSPACE', 'FROM → TO'], rows).map((l) => `  ${l}`),
    );
    const more = plan.changes.length - shown.length;
    if (more > 0) lines.push(`  … and ${plural(more, 'more change')} (\`plan\` lists them all)`);
  }
  if (plan.conflicts.length > 0) {
    lines.push(
      '',
      `Conflicts (${plan.conflicts.length}): these customers get no workspace until the clash is resolved`,
    );
    for (const c of plan.conflicts) lines.push(`  ${c.customerId}  "${c.name}": ${c.reason}`);
  }
  if (plan.orphans.length > 0) {
    lines.push(
      '',
      `Orphans (${plan.orphans.length}): workspaces linked to no customer (ORPHANS=${policy.orphans})`,
    );
    lines.push(
      ...table(
        ['WORKSPACE', 'NAME', 'STATUS'],
        plan.orphans.map((o) => [o.workspaceId, o.name, o.status]),
      ).map((l) => `  ${l}`),
    );
  }
  const destructive = plural(plan.destructive, 'destructive change');
  const limit = `MAX_DESTRUCTIVE_PER_SWEEP=${policy.maxDestructivePerSweep}, MAX_DESTRUCTIVE_SHARE=${Math.round(policy.maxDestructiveShare * 100)}% of ${counts.linked ?? 0}`;
  if (plan.sourceOutage) {
    const o = plan.sourceOutage;
    lines.push(
      '',
      `Source outage (${o.reason}): ${o.message} A sweep would hold ${plural(o.held, 'such change')}.`,
    );
  }
  const outageHeld = plan.sourceOutage?.held ?? 0;
  const exceeded = `${destructive} exceed ${limit}; a sweep would hold them for \`approve\` and make the rest`;
  lines.push(
    '',
    plan.limitExceeded
      ? `Held: YES — ${exceeded}`
      : outageHeld > 0
        ? `Held: YES — ${plural(outageHeld, 'change')} of customers whose rows left the source (the outage above); limit ${limit} otherwise kept`
        : `Held: no (${destructive}: deactivations, deletes, re-creations; limit ${limit})`,
  );
  return lines;
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
