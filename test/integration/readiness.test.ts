/**
 * Readiness follows a real Redis outage: a private redis-server is stopped under a running daemon
 * and started again on the same port, and `/readyz` goes 503 and back to 200 without a restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { type Harness, startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

let h: Harness | undefined;
let redis: ChildProcess | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await stopRedis();
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(port: number): Promise<void> {
  redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const child = redis;
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve();
    });
  });
}

async function stopRedis(): Promise<void> {
  const child = redis;
  redis = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function ready(url: string): Promise<number> {
  const answer = await request(`${url}/readyz`);
  await answer.body.dump();
  return answer.statusCode;
}

describe('/readyz', () => {
  it('goes 503 when Redis stops and 200 again when it is back, without a restart', async () => {
    const port = await freePort();
    await startRedis(port);
    h = await startHarness({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    const daemon = await h.startDaemon();
    await waitFor(async () => (await ready(daemon.url)) === 200, {
      timeoutMs: 10_000,
      what: 'ready',
    });

    await stopRedis();
    await waitFor(async () => (await ready(daemon.url)) === 503, {
      timeoutMs: 15_000,
      what: 'not ready',
    });
    expect((await request(`${daemon.url}/healthz`)).statusCode).toBe(200);

    await startRedis(port);
    await waitFor(async () => (await ready(daemon.url)) === 200, {
      timeoutMs: 30_000,
      what: 'ready again',
    });
  });
});
