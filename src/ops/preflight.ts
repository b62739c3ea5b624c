/**
 * Before a command does anything: can Postgres and Redis be reached? A clear line naming the
 * service, its address (without the password) and how to start it beats a driver's stack trace.
 */
import pg from 'pg';

import { toError } from '../lib/errors.js';
import { connectRedis, parseRedisUrl, redactPassword } from '../lib/redisClient.js';
import { unreachable, UnreachableError } from './errors.js';

const TIMEOUT_MS = 3_000;

/** A URL fit to print: the password replaced. */
export function redact(url: string): string {
  // A cluster URL lists several nodes, which WHATWG URL cannot parse.
  if (parseRedisUrl(url)?.kind === 'cluster') return redactPassword(url);
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparsable URL>';
  }
}

/** Resolves when Postgres answers `select 1` at `url`'s server; else an {@link UnreachableError}. */
export async function checkPostgres(url: string): Promise<void> {
  const u = new URL(url);
  // The server, not the database: `migrate` creates a missing database.
  u.pathname = '/postgres';
  const client = new pg.Client({
    connectionString: u.toString(),
    connectionTimeoutMillis: TIMEOUT_MS,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw unreachable('Postgres', redact(url), reasonOf(error));
  } finally {
    await client.end().catch(() => {});
  }
}

/** Resolves when Redis (or a cluster) answers PING at `url`; else an {@link UnreachableError}. */
export async function checkRedis(url: string): Promise<void> {
  const redis = connectRedis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: TIMEOUT_MS,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let last: unknown;
  redis.on('error', (error: unknown) => (last = error));
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw unreachable('Redis', redact(url), reasonOf(last ?? error));
  } finally {
    redis.disconnect();
  }
}

/** Both, at once. */
export async function checkConnections(config: {
  databaseUrl: string;
  redisUrl: string;
}): Promise<void> {
  const results = await Promise.allSettled([
    checkPostgres(config.databaseUrl),
    checkRedis(config.redisUrl),
  ]);
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [toError(r.reason)] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    throw new UnreachableError(failures.map((f) => f.message).join('\n'));
  }
}

function reasonOf(error: unknown): string {
  const err = toError(error);
  const code = (err as { code?: string }).code;
  const inner = (err as { errors?: unknown[] }).errors?.[0];
  const message = err.message || (inner ? toError(inner).message : '') || code || 'no answer';
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
