/**
 * Start-up and idle memory of the compiled code: the CLI from `node dist/cli/main.js status` to
 * its exit with the status printed (what an operator waits for), and the daemon's RSS once it has
 * started and sat idle for a few seconds.
 */
import { runNode } from '../cli.js';
import { sleep } from '../infra.js';
import { withStack } from '../stack.js';

export interface StartupResult {
  /** Wall time of each `status` run, sorted. */
  readonly statusMs: readonly number[];
  readonly statusMedianMs: number;
  /** The floor: starting Node itself and exiting (`node -e 0`), median. */
  readonly nodeMs: number;
  readonly idleRssMiB: number;
  readonly idlePeakMiB: number;
}

const RUNS = 7;

export async function startup(): Promise<StartupResult> {
  return withStack({ label: 'startup', n: 1000 }, async (stack) => {
    await sleep(5_000);
    const memory = await stack.daemon.memory();
    const statusMs: number[] = [];
    const nodeMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      statusMs.push(await timed(['dist/cli/main.js', 'status'], stack.daemon.env, 'Sync queue:'));
      nodeMs.push(await timed(['-e', '0'], {}, ''));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    return {
      statusMs: [...statusMs].sort((a, b) => a - b),
      statusMedianMs: median(statusMs),
      nodeMs: median(nodeMs),
      idleRssMiB: memory.rssMiB,
      idlePeakMiB: memory.peakMiB,
    };
  });
}

/** Wall time of `node <args>` to its exit; it must have printed `expect`. */
async function timed(
  args: string[],
  env: Readonly<Record<string, string>>,
  expect: string,
): Promise<number> {
  const { ms, stdout } = await runNode(args, env);
  if (!stdout.includes(expect)) throw new Error(`node ${args.join(' ')}: ${stdout.slice(0, 200)}`);
  return ms;
}
