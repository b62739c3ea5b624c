/** `status [--json]`: queue counts, last sweeps, failed and held changes, orphans, breaker. */
import { type Command, InvalidArgumentError } from 'commander';

import { getStatus, type StatusReport } from '../../ops/status.js';
import type { CliContext } from '../context.js';
import { cell, countList, formatDuration, formatTime, table } from '../format.js';
import { ACTIONS as PLAN_ACTIONS } from '../../core/types.js';
import { regionLabel } from '../../core/region.js';

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('queue counts, last sweeps, failed and held changes, orphans, breaker state')
    .option('--json', 'print only JSON')
    .option('--sweeps <n>', 'how many recent sweeps to show', (v) => positive(v), 5)
    .action(async (options: { json?: boolean; sweeps: number }) => {
      await ctx.withApp(async (app) => {
        const status = await getStatus(app, { sweeps: options.sweeps });
        if (options.json) ctx.json(status);
        else ctx.out(...renderStatus(status));
      });
    });
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
}

const ACTIONS = [...PLAN_ACTIONS, 'conflicts', 'orphans', 'held'];

const LIMIT_TRIPPED =
  'MASS-CHANGE LIMIT TRIPPED: changes it held wait for approval; until they are approved (or go ' +
  'stale), every deactivation, delete and re-creation from a webhook, a direct write or enqueue ' +
  'is held too.';

/** The readable status. */
export function renderStatus(s: StatusReport, now = Date.now()): string[] {
  const q = s.queue;
  const lines = [
    `Breaker: ${s.breaker}${s.breaker === 'open' ? ` since ${formatTime(s.breakerOpenedAt, now)} — ${s.breakerReason ?? ''}` : ''}`,
    s.rateLimitedUntil
      ? `Agent Engine: rate limited (429) until ${s.rateLimitedUntil}: every daemon waits`
      : 'Agent Engine: calls flow (no rate-limit pause)',
    `Sync queue: ${q.waiting} waiting, ${q.active} active, ${q.delayed} delayed, ${q.prioritized} prioritized, ${q.failed} failed, ${q.completed} completed (kept)${q.paused ? ' — PAUSED' : ''}`,
    '',
    `Last sweeps (${s.sweeps.length}):`,
  ];
  if (s.sweeps.length === 0) lines.push('  none yet');
  else
    lines.push(
      ...table(
        ['SWEEP', 'TRIGGER', 'STARTED', 'TOOK', 'OUTCOME', 'COUNTS'],
        s.sweeps.map((w) => [
          w.id,
          w.trigger,
          formatTime(w.startedAt, now),
          w.durationMs === null ? 'running' : formatDuration(w.durationMs),
          w.outcome,
          `${w.counts.customers ?? 0} customers, ${w.counts.workspaces ?? 0} workspaces; ${countList(w.counts, ACTIONS)}`,
        ]),
      ).map((l) => `  ${l}`),
    );
  lines.push('', `Failed syncs (${s.failed.length}):`);
  if (s.failed.length === 0) lines.push('  none');
  else
    lines.push(
      ...table(
        ['CUSTOMER', 'AT', 'KIND', 'REASON'],
        s.failed.map((f) => [f.customerId, formatTime(f.at, now), cell(f.kind), f.reason]),
      ).map((l) => `  ${l}`),
    );
  if (s.sourceOutage) {
    lines.push('', `SOURCE OUTAGE (${s.sourceOutage.reason}): ${s.sourceOutage.message}`);
  }
  if (s.limitTripped) {
    lines.push('', LIMIT_TRIPPED);
  }
  lines.push(
    '',
    `Held changes (${s.held.length})${s.held.length ? ': release with `approve <sweep-id>`, `approve <hold-id>` or `approve --all`' : ''}:`,
  );
  if (s.held.length === 0) lines.push('  none');
  else
    lines.push(
      ...table(
        ['HOLD', 'SWEEP', 'CUSTOMER', 'ACTION', 'WORKSPACE', 'WHY'],
        s.held.map((h) => [
          String(h.holdId),
          cell(h.sweepId ?? (h.reason === 'limit' ? '(window limit)' : '(outside a sweep)')),
          cell(h.customerId ?? '(orphan)'),
          h.action,
          cell(h.workspaceId),
          h.reason === 'limit' ? 'mass-change limit' : `source outage (${h.reason})`,
        ]),
      ).map((l) => `  ${l}`),
    );
  lines.push('', `Orphans (${s.orphans.length}):`);
  if (s.orphans.length === 0) lines.push('  none');
  else
    lines.push(
      ...table(
        ['WORKSPACE', 'NAME', 'STATUS'],
        s.orphans.map((o) => [o.workspaceId, o.name, o.status]),
      ).map((l) => `  ${l}`),
    );
  lines.push(
    '',
    `Region mismatches (${s.regionMismatches.length})${s.regionMismatches.length ? ': reported only, nothing moves a workspace to another region' : ''}:`,
  );
  if (s.regionMismatches.length === 0) lines.push('  none');
  else
    lines.push(
      ...table(
        ['CUSTOMER', 'WORKSPACE', 'WANTED', 'CREATED IN'],
        s.regionMismatches.map((m) => [
          m.customerId,
          m.workspaceId,
          regionLabel(m.wanted),
          regionLabel(m.createdIn),
        ]),
      ).map((l) => `  ${l}`),
    );
  return lines;
}
