/**
 * The chaos run's own Redis and Postgres: private servers on spare ports, in a temporary
 * directory, so the run can kill, restart and flush them without touching anyone else's data on
 * the shared machine. Both are stopped and their directories removed at the end.
 */
import { execFile, spawn } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Redis } from 'ioredis';
import pg from 'pg';

import { pollUntil } from '../bench/infra.js';

const run = promisify(execFile);
const PG_BIN = process.env.CHAOS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A port in 20000–40000 nobody listens on right now (the machine's convention for extras). */
export async function sparePort(): Promise<number> {
  const { createServer } = await import('node:net');
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export interface PrivateRedis {
  readonly url: string;
  /** SIGKILL and start again on the same port, with nothing saved: every key is lost. */
  restartEmpty(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<PrivateRedis> {
  const port = await sparePort();
  const url = `redis://127.0.0.1:${port}`;
  let child = await launchRedis(port);
  return {
    url,
    restartEmpty: async () => {
      await killAndWait(child);
      child = await launchRedis(port);
    },
    stop: () => killAndWait(child),
  };
}

async function launchRedis(port: number) {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await pollUntil(
    async () => {
      const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
      probe.on('error', () => {});
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    },
    `redis-server on port ${port}`,
    15_000,
    50,
  );
  return child;
}

async function killAndWait(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

export interface PrivatePostgres {
  /** The URL of `database` on this server. */
  url(database: string): string;
  /** `pg_ctl restart -m fast`: every connection is dropped, the data is kept. */
  restart(): Promise<void>;
  /** `pg_dump --data-only` of one database, as text. */
  dump(database: string): Promise<string>;
  stop(): Promise<void>;
}

/** initdb in a temporary directory, then pg_ctl start on a spare port (fsync off: a test server). */
export async function startPostgres(): Promise<PrivatePostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'cs-chaos-pg-'));
  // initdb refuses to run as root: then the server runs as the `postgres` system user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chown(dir, Number((await run('id', ['-u', 'postgres'])).stdout), 0);
  const pgRun = (bin: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args], {
          maxBuffer: 1 << 30,
        })
      : run(join(PG_BIN, bin), args, { maxBuffer: 1 << 30 });
  const data = join(dir, 'data');
  await pgRun('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await sparePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`;
  const ctl = (action: string, ...more: string[]) =>
    pgRun('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-o', options, action, ...more]);
  await ctl('start');
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let stopped = false;
  return {
    url,
    restart: async () => {
      await ctl('restart', '-m', 'fast');
    },
    dump: async (database) =>
      (
        await pgRun('pg_dump', [
          '--data-only',
          '-h',
          '127.0.0.1',
          '-p',
          String(port),
          '-U',
          'postgres',
          database,
        ])
      ).stdout,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await ctl('stop', '-m', 'immediate').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A pool that survives the server restarting under it (errors on idle clients are expected). */
export function resilientPool(url: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'customer-sync chaos' });
  pool.on('error', () => {});
  return pool;
}
