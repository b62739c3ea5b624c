/**
 * What the embedded servers share: a spare port, a child that logs to a file in the data folder,
 * waiting for it to answer (or to die), and stopping it, a leftover of a killed run included.
 */
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** A server started here: its URL, its pid, and how to stop it. */
export interface EmbeddedServer {
  readonly url: string;
  readonly pid: number;
  /** Stops it (gracefully, then for good after a while); resolves once it has exited. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 15_000;

/** A port nothing listens on at 127.0.0.1 right now. */
export function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid on the first line of a pid file; undefined when there is none. */
export async function pidIn(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Sends `signal`, waits up to the grace for the process to go, then SIGKILLs it. */
export async function endProcess(pid: number, signal: NodeJS.Signals): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + STOP_GRACE_MS;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Spawns `command` with stdout and stderr appended to `logFile`. Should this process exit
 * without stopping it (an uncaught error), the child is told to stop with it.
 */
export function spawnLogged(
  command: string,
  args: readonly string[],
  logFile: string,
  options: Pick<SpawnOptions, 'uid' | 'gid' | 'env'> = {},
): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { ...options, stdio: ['ignore', fd, fd] });
    const orphaned = () => child.kill('SIGTERM');
    process.once('exit', orphaned);
    child.once('exit', () => process.off('exit', orphaned));
    child.once('error', () => process.off('exit', orphaned));
    return child;
  } finally {
    closeSync(fd);
  }
}

/**
 * Polls `answers` until it resolves true; rejects when `child` exits (or cannot be spawned) first,
 * or after `timeoutMs`, with `why()` (e.g. the end of its log) in the message.
 */
export async function untilAnswering(
  child: ChildProcess,
  answers: () => Promise<boolean>,
  what: string,
  why: () => Promise<string>,
  timeoutMs = 60_000,
): Promise<void> {
  let ended: string | undefined;
  child.once('exit', (code, signal) => (ended = `exited (${code ?? signal})`));
  child.once('error', (error) => (ended = `could not start (${error.message})`));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (ended) throw new Error(`${what} ${ended}: ${await why()}`);
    if (await answers().catch(() => false)) return;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not answer within ${timeoutMs / 1000}s: ${await why()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The last lines of a log file, on one line, for an error message. */
export async function tail(file: string, lines = 5): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return (
    text
      .trim()
      .split('\n')
      .slice(-lines)
      .map((l) => l.trim())
      .join(' | ') || `(nothing in ${file})`
  );
}

/** Stops a child started here: `signal`, then SIGKILL after the grace; resolves on its exit. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
