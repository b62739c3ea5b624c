/**
 * The daemons under chaos: `node --import tsx src/main.ts` child processes whose every output
 * line is handed to the caller (the leak scan reads them all), and that can be SIGKILLed,
 * restarted, SIGSTOPped and continued.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import { ROOT } from '../bench/daemon.js';
import { freePort, pollUntil } from '../bench/infra.js';

export interface ChaosDaemon {
  readonly name: string;
  /** The current process's HTTP base URL (changes on restart). */
  readonly url: string;
  /** Whether it is SIGSTOPped right now. */
  readonly stopped: boolean;
  /** SIGKILL, wait for the exit, start a new process with the same environment. */
  killAndRestart(): Promise<void>;
  pause(): void;
  resume(): void;
  /** SIGCONT if paused, then SIGTERM (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<void>;
}

/** Starts a daemon; `onLine` sees every line it writes to stdout or stderr. */
export async function startChaosDaemon(
  name: string,
  env: Record<string, string>,
  onLine: (line: string) => void,
): Promise<ChaosDaemon> {
  let current = await launch(env, onLine);
  let stopped = false;
  return {
    name,
    get url() {
      return current.url;
    },
    get stopped() {
      return stopped;
    },
    killAndRestart: async () => {
      current.child.kill('SIGKILL');
      await current.exited;
      stopped = false;
      current = await launch(env, onLine);
    },
    pause: () => {
      stopped = current.child.kill('SIGSTOP');
    },
    resume: () => {
      if (stopped) current.child.kill('SIGCONT');
      stopped = false;
    },
    stop: async (graceMs = 10_000) => {
      if (stopped) current.child.kill('SIGCONT');
      stopped = false;
      if (current.child.exitCode !== null || current.child.signalCode !== null) return;
      current.child.kill('SIGTERM');
      const timer = setTimeout(() => current.child.kill('SIGKILL'), graceMs);
      await current.exited;
      clearTimeout(timer);
    },
  };
}

async function launch(env: Record<string, string>, onLine: (line: string) => void) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...env,
      HOST: '127.0.0.1',
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Whole lines (a chunk can end mid-line, and a token cut in two would escape the scan).
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      gone = true;
      resolve();
    }),
  );
  try {
    await pollUntil(
      async () => {
        if (gone) throw new Error('daemon exited at start (its lines are in the chaos log)');
        return fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
      },
      'the daemon to listen',
      60_000,
      100,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, url, exited } satisfies Running;
}
