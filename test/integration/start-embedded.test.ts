/**
 * `EMBEDDED=1 npm start` with DATABASE_URL and REDIS_URL unset and nothing at the defaults (the
 * test switch EMBEDDED_TEST_DEFAULTS_CLOSED=1): the daemon gets embedded servers (one line each),
 * a migrated database, is ready, and on SIGTERM exits 0 leaving no process. With
 * NODE_ENV=production it refuses at once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, expect, it } from 'vitest';

import { embeddedServerPids, leftovers } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Postgres runs as the `postgres` user when we are root: it must reach the folder.
const DIR = mkdtempSync(join(tmpdir(), 'cs-start-embedded-'));
chmodSync(DIR, 0o755);

/** Started here and not yet exited: stopped (SIGTERM, which stops their servers) should a test fail. */
const running = new Set<ChildProcess>();

afterAll(async () => {
  for (const child of running) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(DIR, { recursive: true, force: true });
});

function start(extra: Record<string, string> = {}): {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | string>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      EMBEDDED: '1',
      EMBEDDED_DIR: DIR,
      EMBEDDED_TEST_DEFAULTS_CLOSED: '1',
      AGENT_ENGINE_URL: 'http://127.0.0.1:1',
      AGENT_ENGINE_CLIENT_ID: 'id',
      AGENT_ENGINE_CLIENT_SECRET: 'secret',
      HOST: '127.0.0.1',
      PORT: '0',
      SWEEP_EVERY: '1h',
      LOG_LEVEL: 'info',
      ...extra,
    },
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

it('starts embedded servers, migrates, is ready, and stops leaving no process', async () => {
  const daemon = start();
  const started = /"url":"(http:\/\/127\.0\.0\.1:\d+)".*"msg":"customer-sync daemon started"/;
  const url = await waitFor(() => started.exec(daemon.err())?.[1], {
    timeoutMs: 90_000,
    what: 'the daemon started',
  }).catch((error: Error) => {
    throw new Error(`${error.message}; stdout:\n${daemon.out()}\nstderr:\n${daemon.err()}`);
  });
  expect(daemon.err()).toMatch(
    /^customer-sync: Postgres: nothing answers at 127\.0\.0\.1:1; started an embedded one in \d+\.\ds/m,
  );
  expect(daemon.err()).toMatch(
    /^customer-sync: Redis: nothing answers at 127\.0\.0\.1:1; started an embedded one in \d+\.\ds/m,
  );
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, {
    what: 'GET /readyz 200 (Postgres, Redis and workers ready)',
  });
  const pids = embeddedServerPids(DIR);
  daemon.child.kill('SIGTERM');
  expect(await daemon.exited).toBe(0);
  expect(leftovers(pids, DIR)).toEqual([]);
});

it('refuses EMBEDDED=1 with NODE_ENV=production, starting nothing', async () => {
  const daemon = start({ NODE_ENV: 'production', EMBEDDED_DIR: join(DIR, 'never') });
  expect(await daemon.exited).toBe(2);
  expect(daemon.err()).toMatch(/^customer-sync: EMBEDDED=1 is refused with NODE_ENV=production/);
  expect(leftovers([], join(DIR, 'never'))).toEqual([]);
});
