/**
 * The lower bound of a steady sweep, measured in the same run: what no sweep can beat, namely
 * paging the whole list at `limit=100` with a bare undici loop (no validation, no rate limiter,
 * no staging) plus reading the `customers` table once. It runs in its own child process, like
 * the daemon, so it does not share a CPU with the simulator's event loop; it runs twice and the
 * second (warm) pass counts, as the daemon's second sweep does.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { ROOT } from './daemon.js';
import { CLIENT_ID, CLIENT_SECRET, type Stack } from './stack.js';

export interface LowerBoundPass {
  readonly listMs: number;
  readonly pages: number;
  readonly readMs: number;
  readonly rows: number;
  readonly totalMs: number;
}

export interface LowerBound extends LowerBoundPass {
  /** The first pass, in a fresh process. */
  readonly cold: LowerBoundPass;
}

export async function measureLowerBound(stack: Stack): Promise<LowerBound> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'bench/lowerBoundChild.ts'],
    {
      cwd: ROOT,
      timeout: 10 * 60_000,
      maxBuffer: 1 << 20,
      env: {
        PATH: process.env.PATH ?? '',
        SIM_URL: stack.sim.url,
        DATABASE_URL: stack.db.url,
        CLIENT_ID,
        CLIENT_SECRET,
      },
    },
  );
  const [cold, warm] = JSON.parse(stdout) as [LowerBoundPass, LowerBoundPass];
  return { ...warm, cold };
}
