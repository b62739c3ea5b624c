/**
 * A real Redis of our own in a data folder: the machine's `redis-server` (on the PATH), on
 * 127.0.0.1 and a spare port, keeping its data in `dir/redis` (append-only file, so the queue's
 * jobs and schedules survive a restart) and never evicting (BullMQ keeps jobs only in Redis).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { connectRedis } from '../lib/redisClient.js';
import {
  alive,
  type EmbeddedServer,
  endProcess,
  pidIn,
  sparePort,
  spawnLogged,
  stopChild,
  tail,
  untilAnswering,
} from './processes.js';

/** Starts a `redis-server` keeping its data in `dir/redis`. */
export async function startEmbeddedRedis(dir: string): Promise<EmbeddedServer> {
  const data = join(dir, 'redis');
  const log = join(dir, 'redis.log');
  const pidFile = join(data, 'redis.pid');
  await mkdir(data, { recursive: true });
  // A server left running by a run that was killed holds the folder: stop it first.
  const leftover = await pidIn(pidFile);
  if (leftover !== undefined && alive(leftover)) await endProcess(leftover, 'SIGTERM');
  const port = await sparePort();
  const child = spawnLogged(
    'redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', data, '--pidfile', pidFile],
      ...['--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction'],
      ...['--daemonize', 'no', '--logfile', ''],
    ],
    log,
  );
  const url = `redis://127.0.0.1:${port}`;
  await untilAnswering(
    child,
    () => answers(url),
    'the embedded Redis (redis-server)',
    async () =>
      (await tail(log)).includes('nothing in')
        ? 'is redis-server installed and on the PATH? (apt install redis-server, brew install redis), or set REDIS_URL'
        : tail(log),
  );
  return { url, pid: child.pid ?? 0, stop: () => stopChild(child, 'SIGTERM') };
}

async function answers(url: string): Promise<boolean> {
  const redis = connectRedis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } finally {
    redis.disconnect();
  }
}
