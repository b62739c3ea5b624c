/** Running the CLI in a test: in-process (fast, captured streams) or as a child process (exit codes, stdout purity). */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { CliIo, CliStream } from '../../src/cli/context.js';
import { runCli } from '../../src/cli/program.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function capture(isTTY = false): CliStream & { text: () => string } {
  const chunks: string[] = [];
  return {
    isTTY,
    write: (chunk: string) => {
      chunks.push(chunk);
      return true;
    },
    text: () => chunks.join(''),
  };
}

/** Runs the CLI in this process with `env` as its whole environment. */
export async function cli(env: Readonly<Record<string, string>>, args: string[]): Promise<CliRun> {
  const stdout = capture();
  const stderr = capture();
  const io: CliIo = { env: { ...env, LOG_LEVEL: 'warn' }, stdout, stderr };
  const code = await runCli(args, io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs `node --import tsx src/cli/main.ts …` as a child process (what `npm run cli` does). The
 * promise also tells what the child has written to stderr so far, for tests that wait on it.
 */
export function spawnCli(
  env: Readonly<Record<string, string>>,
  args: string[],
): Promise<CliRun> & { stderrSoFar(): string } {
  let err = '';
  let child: ReturnType<typeof execFile> | undefined;
  const run = new Promise<CliRun>((resolve) => {
    child = execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'warn' },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
  child?.stderr?.on('data', (chunk: Buffer | string) => (err += chunk.toString()));
  return Object.assign(run, { stderrSoFar: () => err });
}
