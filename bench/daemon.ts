/**
 * The daemon under test as a child process running the compiled code (`node dist/main.js`, what
 * `npm start` and the image run; `npm run bench` builds first), so its memory is its own: peak RSS
 * is the kernel's VmHWM for that pid, not a guess from inside a shared heap.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { freePort, pollUntil } from './infra.js';

/** The kernel's USER_HZ, 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface DaemonProcess {
  readonly pid: number;
  readonly url: string;
  /** Its configuration (without HOST and PORT): a CLI given this talks to the same stack. */
  readonly env: Readonly<Record<string, string>>;
  /** VmRSS (now) and VmHWM (peak since start), in MiB. */
  memory(): Promise<{ rssMiB: number; peakMiB: number }>;
  /** CPU seconds it has used so far (user + system, from /proc/<pid>/stat). */
  cpuSeconds(): Promise<number>;
  /** The last lines it wrote, for a failure message. */
  tail(): string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface DaemonOptions {
  readonly env: Record<string, string>;
  /** Write a V8 CPU profile into this directory when the daemon exits. */
  readonly cpuProfDir?: string;
}

/**
 * The daemon's arguments exactly as `npm start` gives them (`exec node <flags> dist/main.js`), so
 * the bench measures what production runs, V8 flags included.
 */
function startArgs(): string[] {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
    scripts: { start: string };
  };
  const words = pkg.scripts.start.split(/\s+/);
  const node = words.indexOf('node');
  if (node < 0) throw new Error(`npm start does not run node: ${pkg.scripts.start}`);
  return words.slice(node + 1);
}

/** Starts a daemon and resolves once its HTTP server answers `/healthz`. */
export async function startDaemon(options: DaemonOptions): Promise<DaemonProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args: string[] = [];
  if (options.cpuProfDir) args.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  args.push(...startArgs());
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    // PATH and HOME only from the bench's environment: the rest is the daemon's configuration.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...options.env,
      HOST: '127.0.0.1',
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    // Drained always (a full pipe would stall the daemon); only a short tail is kept.
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn the daemon');
  const tail = () => lines.slice(-15).join('\n');
  try {
    await pollUntil(
      async () => {
        if (exited) throw new Error(`daemon exited at start:\n${tail()}`);
        return fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
      },
      'the daemon to listen',
      30_000,
      50,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    pid,
    url,
    env: options.env,
    tail,
    memory: async () => {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kib = (key: string) =>
        Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
      return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
    },
    cpuSeconds: async () => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): utime and stime are 14th and 15th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    stop: async (graceMs = 15_000) => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}
