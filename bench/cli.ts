/** The compiled CLI as an operator runs it, timed from spawn to exit. */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

import { ROOT } from './daemon.js';

/** Wall time of `node <args>` to its exit, and what it printed; rejects unless it exits 0. */
export function runNode(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr.slice(-300)}`));
    });
  });
}
