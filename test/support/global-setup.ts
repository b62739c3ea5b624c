/**
 * Integration tests run against a real Postgres and Redis: the ones in DATABASE_URL / REDIS_URL
 * when set (CI); when unset, the local ones at 127.0.0.1 (user postgres) if they answer, else
 * containers started by testcontainers. A template database is
 * migrated once per run; each test file clones it (see `db.ts`). The cluster-mode tests get the
 * Redis Cluster in REDIS_CLUSTER_URL when set, else a local three-master one started here from
 * `redis-server` and stopped at the end.
 */
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

import { runMigrations } from '../../src/db/migrate.js';
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
  // Unset: the local services at their usual addresses when they answer, else containers.
  let databaseUrl = process.env.DATABASE_URL || (await localPostgres());
  let redisUrl = process.env.REDIS_URL || (await localRedis());
  if (!databaseUrl) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:15-alpine')
      .start()
      .catch((error: unknown) => {
        throw new Error(
          `DATABASE_URL is not set and testcontainers could not start Postgres (${String(error)}): set DATABASE_URL and REDIS_URL, or start Docker`,
        );
      });
    stops.push(() => container.stop());
    databaseUrl = container.getConnectionUri();
  }
  if (!redisUrl) {
    const { RedisContainer } = await import('@testcontainers/redis');
    const container = await new RedisContainer('redis:7-alpine').start();
    stops.push(() => container.stop());
    redisUrl = container.getConnectionUrl();
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
