/**
 * `npm run chaos [-- --quick] [--customers N] [--duration 100s]`: the chaos run of issue 10.
 * Progress goes to stderr; the report (the machine, then each invariant with its figure) to
 * stdout. Exit 0 when every invariant holds, 1 when one fails, 2 when the run could not be made.
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';

import { parseDuration } from '../src/lib/duration.js';
import { type ChaosOptions, FULL, graceOf, QUICK } from './options.js';
import { runChaos } from './run.js';

function options(): ChaosOptions {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      customers: { type: 'string' },
      duration: { type: 'string' },
      'no-postgres-restart': { type: 'boolean', default: false },
      'keep-logs': { type: 'boolean', default: false },
    },
  });
  let o: ChaosOptions = values.quick ? QUICK : FULL;
  if (values.customers !== undefined) {
    const n = Number(values.customers);
    if (!Number.isInteger(n) || n < 50) throw new Error('--customers: expected an integer ≥ 50');
    o = { ...o, customers: n };
  }
  if (values.duration !== undefined) {
    const ms = parseDuration(values.duration);
    if (ms === undefined || ms < 20_000) throw new Error('--duration: expected at least 20s');
    // The SIGSTOP and the kills scale with a shorter run.
    o = {
      ...o,
      durationMs: ms,
      pauseMs: Math.min(o.pauseMs, ms * 0.4),
      killEveryMs: Math.min(o.killEveryMs, Math.round(ms / 3000) * 1000),
    };
  }
  if (values['no-postgres-restart']) o = { ...o, restartPostgres: false };
  if (values['keep-logs']) o = { ...o, keepLogs: true };
  return { ...o, progress: (line) => process.stderr.write(`${line}\n`) };
}

async function main(): Promise<number> {
  let o: ChaosOptions;
  try {
    o = options();
  } catch (error) {
    process.stderr.write(`chaos: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const report = await runChaos(o);
  const cpu = cpus();
  const out = [
    `chaos run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpu.length} cores ` +
      `(${cpu[0]?.model.trim() ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`,
    `${o.customers} customers, ${o.durationMs / 1000} s of faults, SIGKILL every ${o.killEveryMs / 1000} s, ` +
      `SIGSTOP ${o.pauseMs / 1000} s, SWEEP_EVERY=${o.sweepEveryMs / 1000} s, DELETE_GRACE=${graceOf(o) / 1000} s`,
    ...report.facts.map((f) => `  ${f}`),
    '',
    ...report.verdicts.map((v) => `${v.ok ? 'PASS' : 'FAIL'}  ${v.name}\n      ${v.figure}`),
    '',
    report.ok
      ? 'all invariants hold'
      : `${report.verdicts.filter((v) => !v.ok).length} invariant(s) failed`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `chaos: the run could not be made: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(2);
  },
);
