/**
 * The naive peer against the same simulator and fleet as a steady sweep, in its own child process
 * (as the daemon is), so calls and wall time compare like for like.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { callsOf, type Calls } from '../calls.js';
import { ROOT } from '../daemon.js';
import { CLIENT_ID, CLIENT_SECRET, type Stack } from '../stack.js';

export interface NaiveResult {
  readonly n: number;
  readonly wallMs: number;
  readonly calls: Calls;
  readonly puts: number;
}

export async function naivePeer(stack: Stack): Promise<NaiveResult> {
  stack.sim.stats.reset();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'bench/naiveChild.ts'],
    {
      cwd: ROOT,
      timeout: 10 * 60_000,
      env: {
        PATH: process.env.PATH ?? '',
        SIM_URL: stack.sim.url,
        DATABASE_URL: stack.db.url,
        CLIENT_ID,
        CLIENT_SECRET,
      },
    },
  );
  const out = JSON.parse(stdout) as { ms: number; customers: number; puts: number };
  return { n: stack.n, wallMs: out.ms, calls: callsOf(stack.sim.stats), puts: out.puts };
}
