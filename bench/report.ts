/** The table printed at the end of a run, one row per measured figure with its goal. */
import type { BackfillResult } from './scenarios/backfill.js';
import type { DriftResult } from './scenarios/drift.js';
import type { AdoptionResult } from './scenarios/adoption.js';
import type { FirstSweepResult } from './scenarios/firstSweep.js';
import type { StartupResult } from './scenarios/startup.js';
import type { SteadyResult } from './scenarios/steady.js';
import type { WebhookResult } from './scenarios/webhooks.js';

export interface Row {
  readonly what: string;
  readonly value: string;
  readonly goal: string;
  /** undefined: no goal for this row. */
  readonly met: boolean | undefined;
}

export interface Results {
  readonly startup?: StartupResult;
  readonly steady: readonly SteadyResult[];
  readonly drift?: DriftResult;
  readonly first?: FirstSweepResult;
  readonly adoption?: AdoptionResult;
  readonly backfill?: BackfillResult;
  readonly webhooks?: WebhookResult;
  readonly webhooksSplit?: WebhookResult;
}

const k = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const f1 = (x: number) => x.toFixed(1);

export function rowsOf(results: Results): Row[] {
  const rows: Row[] = [];
  const u = results.startup;
  if (u) {
    rows.push({
      what: `CLI \`status\` start-up to printed, compiled (median of ${u.statusMs.length})`,
      value: `${u.statusMedianMs.toFixed(0)} ms (${u.statusMs.map((m) => m.toFixed(0)).join(', ')})`,
      goal: '≤ 400 ms',
      met: u.statusMedianMs <= 400,
    });
    rows.push({
      what: '  lower bound: `node -e 0`',
      value: `${u.nodeMs.toFixed(0)} ms`,
      goal: '',
      met: undefined,
    });
    rows.push({
      what: 'daemon idle RSS, compiled (peak since start)',
      value: `${u.idleRssMiB.toFixed(0)} MiB (${u.idlePeakMiB.toFixed(0)} MiB)`,
      goal: '≤ 100 MiB',
      met: u.idleRssMiB <= 100,
    });
  }
  for (const r of results.steady) {
    const ratioGoal = r.n === 100_000;
    rows.push({
      what: `steady sweep, N=${k(r.n)}: wall (cold first sweep; warm-up sweeps)`,
      value: `${s(r.wallMs)} (${s(r.coldWallMs)}; ${r.warmupWallMs.map(s).join(', ')}); list ${s(r.listMs)}, plan ${s(r.planMs)}`,
      goal: '',
      met: undefined,
    });
    rows.push({
      what: `  lower bound (bare list ${s(r.lowerBound.listMs)} + read ${s(r.lowerBound.readMs)})`,
      value: `${s(r.lowerBound.totalMs)} → ratio ${r.ratio.toFixed(2)}× (median of ${r.ratios.map((x) => x.toFixed(2)).join(', ')})`,
      goal: ratioGoal ? '≤ 1.2×' : '',
      met: ratioGoal ? r.ratio <= 1.2 : undefined,
    });
    rows.push({
      what: '  daemon CPU per 100k workspaces swept (user + system)',
      value: `${r.cpuSecondsPer100k.toFixed(2)} s`,
      goal: '',
      met: undefined,
    });
    rows.push({
      what: '  Agent Engine calls (writes)',
      value: `${r.calls.total} (${r.calls.writes})`,
      goal: `≤ ${r.callCeiling} (0)`,
      met: r.calls.total <= r.callCeiling && r.calls.writes === 0,
    });
    rows.push({
      what: '  daemon peak RSS (RSS before)',
      value: `${r.peakRssMiB.toFixed(0)} MiB (${r.rssBeforeMiB.toFixed(0)} MiB)`,
      goal: r.n >= 1_000_000 ? '≤ 300 MB' : '',
      met: r.n >= 1_000_000 ? r.peakRssMiB * 1.048576 <= 300 : undefined,
    });
    if (r.naive) {
      const callRatio = r.naive.calls.total / r.calls.total;
      rows.push({
        what: `naive peer, N=${k(r.n)}: calls, wall`,
        value: `${r.naive.calls.total} calls, ${s(r.naive.wallMs)} → ${callRatio.toFixed(0)}× the calls, ${(r.naive.wallMs / r.wallMs).toFixed(1)}× the time`,
        goal: '≥ 50× fewer calls',
        met: callRatio >= 50,
      });
    }
  }
  const [first, ...rest] = results.steady;
  const last = rest[rest.length - 1];
  if (first && last) {
    const perK = (r: SteadyResult) => (r.wallMs / r.n) * 1000;
    rows.push({
      what: `growth ${k(first.n)} → ${k(last.n)} (${last.n / first.n}×)`,
      value: `time ×${(last.wallMs / first.wallMs).toFixed(1)} (${perK(first).toFixed(1)} → ${perK(last).toFixed(1)} ms per 1k), peak RSS ×${(last.peakRssMiB / first.peakRssMiB).toFixed(2)}`,
      goal: 'linear time, flat memory',
      met: undefined,
    });
  }
  const d = results.drift;
  if (d) {
    rows.push({
      what: `drifted sweep, N=${k(d.n)}, ${d.drifted} changed, API_RATE_LIMIT=${d.rateLimit}/s`,
      value: `${f1(d.callsPerSecond)} calls/s queued → converged; ${f1(d.changesPerSecond)} changes/s; converged in ${s(d.convergedMs)}`,
      goal: '',
      met: undefined,
    });
    rows.push({
      what: '  busiest 10 s window at the simulator (limit × 10 s)',
      value: `${(d.busiest10sShare * 100).toFixed(1)}% of the limit`,
      goal: '≤ 100%',
      met: d.busiest10sShare <= 1,
    });
    rows.push({
      what: '  syncs phase (planned → last call; syncs always waiting)',
      value: `${(d.syncPhaseShare * 100).toFixed(1)}% of the limit (list pass ${(d.listPassShare * 100).toFixed(0)}%)`,
      goal: '≥ 90%',
      met: d.syncPhaseShare >= 0.9,
    });
    rows.push({
      what: '  calls per change (sync calls only); 429s',
      value: `${d.callsPerChange.toFixed(2)} (${d.syncCallsPerChange.toFixed(2)}); ${d.calls.status429} × 429 (sim limit ${d.simLimit}/s)`,
      goal: 'no 429 storm',
      met: d.calls.status429 <= d.drifted * 0.01,
    });
  }
  const f = results.first;
  if (f) {
    rows.push({
      what: `first sweep over an empty organization, N=${k(f.n)}, API_RATE_LIMIT=${f.rateLimit}/s: calls per created workspace (mint + info)`,
      value: `${f.callsPerCreated.toFixed(2)}; ${f.calls.total} calls in all (${f.calls.lists} list, ${f.calls.tokens} token, ${f.inactive} PUT to deactivate new workspaces of inactive customers); converged in ${s(f.convergedMs)}`,
      goal: '≤ 2.02',
      met: f.callsPerCreated <= 2.02,
    });
  }
  const a = results.adoption;
  if (a) {
    rows.push({
      what: `adoption of N=${k(a.n)} unlinked workspaces, API_RATE_LIMIT=${a.rateLimit}/s: calls per adopted workspace (mint + info); PUTs`,
      value: `${a.callsPerAdopted.toFixed(2)}; ${a.calls.puts} PUT for ${a.differing} statuses that differed; ${a.calls.total} calls in all (${a.calls.lists} list, ${a.calls.tokens} token); converged in ${s(a.convergedMs)}`,
      goal: '≤ 2 + 1 PUT per differing status',
      met: a.callsPerAdopted <= 2 && a.calls.puts === a.differing,
    });
  }
  const b = results.backfill;
  if (b) {
    rows.push({
      what: `webhook during a ${k(b.fleet)}-customer backfill at ${b.rateLimit}/s: reaches the Agent Engine p50 / p99 (${b.samples} events)`,
      value: `${b.p50Ms.toFixed(0)} ms / ${b.p99Ms.toFixed(0)} ms (max ${b.maxMs.toFixed(0)} ms); ${b.backlogLeft} backfill jobs still waiting`,
      goal: 'p99 ≤ 2 s',
      met: b.p99Ms <= 2000,
    });
    rows.push({
      what: '  lower bound: its own calls at the limit, one interval each (+ 20 ms latency)',
      value: `${((2 * 1000) / b.rateLimit + 2 * 20).toFixed(0)} ms (GET + PUT); busiest 10 s window ${(b.busiest10sShare * 100).toFixed(1)}% of the limit`,
      goal: '≤ 100%',
      met: b.busiest10sShare <= 1,
    });
  }
  for (const w of [results.webhooks, results.webhooksSplit]) {
    if (!w) continue;
    const where = w.split ? 'receiver + worker daemons' : 'one daemon';
    rows.push({
      what: `webhooks, ${where}: verified events/s (${w.connections} connections, ${f1(w.durationS)} s)`,
      value: `${f1(w.eventsPerSecond)} (${w.verified} ok, ${w.non2xx} non-2xx, ${w.errors} errors)`,
      goal: '≥ 1,000/s',
      met: w.eventsPerSecond >= 1000,
    });
    rows.push({
      what: '  ack latency p50 / p99',
      value: `${w.ackP50Ms} ms / ${w.ackP99Ms} ms`,
      goal: 'p99 ≤ 50 ms',
      met: w.ackP99Ms <= 50,
    });
    rows.push({
      what: `  webhook → converged p50 / p99 (${w.convergeSamples} events, sim latency 20 ms)`,
      value: `${w.convergedP50Ms.toFixed(0)} ms / ${w.convergedP99Ms.toFixed(0)} ms`,
      goal: 'p99 ≤ 1 s',
      met: w.convergedP99Ms <= 1000,
    });
  }
  return rows;
}

export function formatTable(rows: readonly Row[]): string {
  const head = ['measure', 'result', 'goal', 'met'];
  const cells = rows.map((r) => [
    r.what,
    r.value,
    r.goal,
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]) =>
    `| ${c.map((x, i) => x.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.map(line),
  ].join('\n');
}
