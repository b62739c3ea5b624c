/**
 * How `sweep --wait` (and the demo) show a sweep: a live bar on a terminal, plain lines
 * otherwise (one per phase change, then at most one a second while numbers move), and a summary
 * block at the end whose last line starts with `result:`.
 */
import cliProgress from 'cli-progress';

import type { SweepSummary, SweepWatch } from '../ops/sweep.js';
import type { CliStream } from './context.js';
import { countList, formatDuration, plural } from './format.js';
import { ACTIONS as PLAN_ACTIONS } from '../core/types.js';

export interface SweepView {
  update(watch: SweepWatch): void;
  /** Stops the bar (if any) and prints the summary. */
  finish(summary: SweepSummary): void;
  /** Stops the bar without a summary (interrupted). */
  stop(): void;
}

const PHASES: Record<SweepWatch['phase'], string> = {
  queued: 'waiting for a daemon',
  listing: 'listing workspaces',
  planning: 'planning',
  syncing: 'syncing',
  done: 'done',
};

/** Picks the bar or the lines from whether `out` is a terminal. */
export function createSweepView(
  out: CliStream,
  err: CliStream,
  options: { prefix: string },
): SweepView {
  const noWorker = warnOnce(err, options.prefix);
  return out.isTTY ? barView(out, noWorker) : lineView(out, noWorker);
}

function lineView(out: CliStream, noWorker: (w: SweepWatch) => void): SweepView {
  let lastPhase = '';
  let lastText = '';
  let lastAt = 0;
  return {
    update(watch) {
      noWorker(watch);
      const text = describe(watch);
      const now = Date.now();
      if (text === lastText) return;
      if (watch.phase === lastPhase && now - lastAt < 1000) return;
      out.write(`${text}\n`);
      lastPhase = watch.phase;
      lastText = text;
      lastAt = now;
    },
    finish(summary) {
      out.write(`${summaryLines(summary).join('\n')}\n`);
    },
    stop() {},
  };
}

function barView(out: CliStream, noWorker: (w: SweepWatch) => void): SweepView {
  const bar = new cliProgress.SingleBar(
    {
      format:
        '{phase} |{bar}| {value}/{total} syncs ended, {failed} failed · {pages} pages, {workspaces} workspaces · {changes} changes, {queued} queued',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stream: out as NodeJS.WritableStream,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(watch) {
      noWorker(watch);
      const payload = { ...watch, phase: PHASES[watch.phase].padEnd(20) };
      if (!started) {
        bar.start(Math.max(watch.queued, 1), watch.ended, payload);
        started = true;
      }
      bar.setTotal(Math.max(watch.queued, 1));
      bar.update(watch.ended, payload);
    },
    finish(summary) {
      if (started) bar.stop();
      out.write(`${summaryLines(summary).join('\n')}\n`);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function describe(w: SweepWatch): string {
  switch (w.phase) {
    case 'queued':
      return 'waiting for a daemon to take the sweep';
    case 'listing':
      return `listing workspaces: ${plural(w.pages, 'page')}, ${plural(w.workspaces, 'workspace')}`;
    case 'planning':
      return `planning: ${plural(w.workspaces, 'workspace')} listed, ${plural(w.customers, 'customer')} read, ${plural(w.changes, 'change')}, ${w.queued} queued`;
    case 'syncing':
    case 'done':
      return `syncing: ${w.ended}/${w.queued} ended, ${w.failed} failed, ${w.held} held`;
  }
}

/** Warns on stderr, once per phase, when no worker consumes the queue the sweep waits on. */
function warnOnce(err: CliStream, prefix: string): (w: SweepWatch) => void {
  const warned = new Set<string>();
  return (w) => {
    if (!w.noWorker || warned.has(w.phase)) return;
    warned.add(w.phase);
    const queue = w.phase === 'syncing' ? 'sync' : 'sweep';
    err.write(
      `note: no daemon is consuming the ${queue} queue (prefix ${prefix}); start one with \`npm start\` — still waiting\n`,
    );
  };
}

const ACTIONS = [...PLAN_ACTIONS, 'conflicts', 'orphans'];

/** The summary block; its last line is `result: …`. */
export function summaryLines(s: SweepSummary): string[] {
  const c = s.counts;
  const lines = [
    `sweep ${s.sweepId} finished: ${s.outcome} in ${formatDuration(s.durationMs)}`,
    `  listed ${plural(c.workspaces ?? 0, 'workspace')} (${plural(c.pages ?? 0, 'page')}), read ${plural(c.customers ?? 0, 'customer')}`,
    `  planned: ${countList(c, ACTIONS)}`,
    `  syncs: ${s.queued} queued, ${s.ended} ended; failing: ${s.failed}, held: ${s.held}`,
  ];
  if (s.error) lines.push(`  error: ${s.error}`);
  lines.push(`result: ${verdict(s)}`);
  return lines;
}

function verdict(s: SweepSummary): string {
  if (s.outcome === 'skipped') return 'not run: another sweep was running (exit 2)';
  if (s.exitCode === 0) return 'all done, in step (exit 0)';
  const why: string[] = [];
  if (s.outcome === 'incomplete')
    why.push('the listing was incomplete, so nothing destructive was done');
  if (s.outcome === 'failed') why.push('the sweep failed');
  if (s.failed > 0)
    why.push(
      `${plural(s.failed, 'sync')} failing (see \`status\`, \`explain <customer>\`, \`retry-failed\`)`,
    );
  if (s.held > 0 || s.outcome === 'held')
    why.push(`changes held for approval (\`approve ${s.sweepId}\`)`);
  return `${why.join('; ') || s.outcome} (exit ${s.exitCode})`;
}
