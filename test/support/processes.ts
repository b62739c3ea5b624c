/**
 * Programs a test starts as child processes (the demo, `npm start`), with their output captured,
 * and what a test needs to show that such a program left no process behind.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll } from 'vitest';

/** The repository's root: where `npm run demo` and `src/main.ts` are run from. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A program started by {@link startProgram}: its output so far, and its exit code or signal. */
export interface Program {
  readonly child: ChildProcess;
  readonly out: () => string;
  readonly err: () => string;
  readonly exited: Promise<number | string>;
}

/** Started here and not yet exited: stopped by SIGTERM (which stops their servers) at teardown. */
const running = new Set<ChildProcess>();

/**
 * Starts `command` in the repository's root with exactly `env` (plus PATH and HOME), capturing its
 * output; a test file that uses it stops whatever is still running at its end, should a test fail.
 */
export function startProgram(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
): Program {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return { child, out: () => out, err: () => err, exited };
}

/**
 * A data folder for embedded servers, removed at the end of the test file (after every program
 * started there has been stopped). Postgres runs as the `postgres` user when we are root: it must
 * reach the folder.
 */
export function embeddedDataDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  afterAll(async () => {
    await stopRunning();
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Stops (SIGTERM) every program still running, and waits for each to exit. */
export async function stopRunning(): Promise<void> {
  for (const child of running) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

/** The embedded servers' pids, from the pid files they keep in the data folder `dir`. */
export function embeddedServerPids(dir: string): number[] {
  const pid = (file: string) => Number(readFileSync(join(dir, file), 'utf8').split('\n')[0]);
  return [pid('postgres/postmaster.pid'), pid('redis/redis.pid')];
}

/** Every process still running that is one of `pids`, a child of one, or names `dir`. */
export function leftovers(pids: readonly number[], dir: string): string[] {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return table
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => {
      const [pid, ppid] = line.split(/\s+/).map(Number);
      return pids.includes(pid as number) || pids.includes(ppid as number) || line.includes(dir);
    })
    .filter((line) => !line.includes(' ps -eo '));
}
