/**
 * A throwaway three-master Redis Cluster from the machine's own `redis-server` and `redis-cli`:
 * spare random ports, node files in a temp directory, `redis-cli --cluster create`, and a wait
 * for `cluster_state:ok` on every node. `stop()` ends the three servers and deletes their files.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Redis } from 'ioredis';

import { waitFor } from './wait.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';

export interface LocalRedisCluster {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`, customer-sync's cluster URL. */
  readonly url: string;
  readonly ports: readonly number[];
  /** An outage: stops the servers, keeping their files. */
  down(): Promise<void>;
  /** Starts them again from their files; resolves when the cluster is ok again. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3): Promise<LocalRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'cs-redis-cluster-'));
  let servers: ChildProcess[] = [];
  const ports: number[] = [];
  // Should the test run die without its teardown, its servers die with it.
  const orphaned = () => servers.forEach((server) => server.kill('SIGKILL'));
  process.once('exit', orphaned);
  const down = async () => {
    await Promise.all(servers.map(end));
    servers = [];
  };
  const start = async () => {
    servers = ports.map((port) =>
      spawn('redis-server', serverArgs(dir, port), { stdio: 'ignore' }),
    );
    await Promise.all(ports.map(answering));
  };
  const stop = async () => {
    process.off('exit', orphaned);
    await down();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    while (ports.length < masters) ports.push(await sparePort(ports));
    await start();
    const nodes = ports.map((p) => `${HOST}:${p}`);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await Promise.all(ports.map(clusterOk));
    const up = async () => {
      await start();
      await Promise.all(ports.map(clusterOk));
    };
    return { url: `redis+cluster://${nodes.join(',')}`, ports, down, up, stop };
  } catch (error) {
    await stop();
    throw new Error(
      `could not start a local Redis Cluster from redis-server (is it installed?): ${String(error)}`,
    );
  }
}

function serverArgs(dir: string, port: number): string[] {
  return [
    ...['--port', String(port), '--bind', HOST, '--dir', dir],
    ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`],
    ...['--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no'],
    ...['--maxmemory-policy', 'noeviction', '--logfile', `redis-${port}.log`],
  ];
}

/**
 * A random port in 41000-45999 whose cluster bus port (+10000) is free too. Other tests' private
 * servers (Redis, Postgres) take ports in 20000-39999: a cluster that is down for a moment must not
 * come back to find one of its ports held by another test's server.
 */
async function sparePort(taken: number[]): Promise<number> {
  for (;;) {
    const port = 41_000 + Math.floor(Math.random() * 5_000);
    if (taken.includes(port)) continue;
    if ((await free(port)) && (await free(port + 10_000))) return port;
  }
}

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, HOST, () => probe.close(() => resolve(true)));
  });
}

async function withNode<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  // Bounded: a probe that meets something other than Redis on the port fails, never hangs.
  const redis = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

const answering = (port: number) =>
  waitFor(() => withNode(port, (r) => r.ping()), { timeoutMs: 10_000, what: `redis on ${port}` });

const clusterOk = (port: number) =>
  waitFor(
    () => withNode(port, async (r) => (await r.cluster('INFO')).includes('cluster_state:ok')),
    {
      timeoutMs: 20_000,
      what: `cluster_state:ok on ${port}`,
    },
  );

async function end(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await exited;
}
