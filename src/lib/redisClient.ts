/**
 * Where the queue's Redis is, and the one place that connects to it. `REDIS_URL` names either one
 * server (`redis://`, `rediss://`) or a Redis Cluster by some of its nodes
 * (`redis+cluster://[user:password@]host:port,host:port`, `rediss+cluster://` for TLS); every
 * caller gets an ioredis client of the right kind and uses it the same way.
 *
 * On a cluster every key customer-sync uses starts with the queue prefix, so a prefix holding a
 * hash tag (`{customer-sync}`) puts them all in one slot: BullMQ's multi-key scripts, the breaker's
 * MGET and MULTI, and the rate limiter's script then never fail with CROSSSLOT. Config refuses a
 * cluster without one ({@link hashTag}).
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** Either kind of client: they share the command interface BullMQ and our own code use. */
export type RedisClient = Redis | Cluster;

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | {
      readonly kind: 'cluster';
      readonly nodes: readonly RedisNode[];
      readonly username: string | undefined;
      readonly password: string | undefined;
      readonly tls: boolean;
    };

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^@/?#]+)\/?$/;
const NODE = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/;

/** Reads a `REDIS_URL`; undefined when it is neither a Redis URL nor a cluster URL. */
export function parseRedisUrl(raw: string): RedisTarget | undefined {
  const cluster = CLUSTER_URL.exec(raw.trim());
  if (cluster) return parseCluster(cluster[1] === 'rediss', cluster[2], cluster[3] ?? '');
  try {
    const url = new URL(raw);
    return ['redis:', 'rediss:'].includes(url.protocol) ? { kind: 'single', url: raw } : undefined;
  } catch {
    return undefined;
  }
}

function parseCluster(tls: boolean, userinfo: string | undefined, hosts: string) {
  const nodes: RedisNode[] = [];
  for (const part of hosts.split(',')) {
    const match = NODE.exec(part.trim());
    const port = Number(match?.[2]);
    if (!match?.[1] || port < 1 || port > 65535) return undefined;
    nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  const [user, password] = userinfo === undefined ? [] : splitUserinfo(userinfo);
  return {
    kind: 'cluster' as const,
    nodes,
    username: user || undefined,
    password: password || undefined,
    tls,
  };
}

function splitUserinfo(userinfo: string): [string, string | undefined] {
  const colon = userinfo.indexOf(':');
  const decode = (s: string) => decodeURIComponent(s);
  return colon < 0
    ? [decode(userinfo), undefined]
    : [decode(userinfo.slice(0, colon)), decode(userinfo.slice(colon + 1))];
}

/** The URL fit to print: a password replaced by `***` (either kind of URL). */
export function redactPassword(raw: string): string {
  return raw.replace(/^([a-z+]+:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}

/**
 * The hash tag Redis Cluster would hash a key starting with `prefix` by: the text between the
 * first `{` and the next `}`, when not empty. Undefined means keys under the prefix spread over
 * slots.
 */
export function hashTag(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  if (open < 0) return undefined;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1 ? prefix.slice(open + 1, close) : undefined;
}

/**
 * Connects to the Redis `url` names. `options` are a single server's; for a cluster they apply
 * to each node's connection, `retryStrategy` becomes the cluster's reconnect strategy and
 * `lazyConnect`/`enableOfflineQueue`/`maxRetriesPerRequest` apply to the cluster as a whole.
 */
export function connectRedis(url: string, options: RedisOptions = {}): RedisClient {
  const target = parseRedisUrl(url);
  if (!target) throw new Error('REDIS_URL is not a redis://, rediss:// or redis+cluster:// URL');
  if (target.kind === 'single') return new Redis(url, options);
  const { retryStrategy, lazyConnect, enableOfflineQueue, ...perNode } = options;
  const limit = options.maxRetriesPerRequest;
  return new Cluster([...target.nodes], {
    clusterRetryStrategy:
      retryStrategy ?? (typeof limit === 'number' ? failQueuedAfter(limit) : undefined),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    redisOptions: {
      ...perNode,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  });
}

/** ioredis's own delay between attempts to reach a cluster again. */
const reconnectDelay = (times: number) => Math.min(100 + times * 2, 2000);

/**
 * A single server's client rejects its queued commands after `maxRetriesPerRequest` failed
 * reconnects; a Cluster's keeps them until the cluster is back, so a webhook would hang through a
 * whole outage. This strategy keeps reconnecting but, past `limit` attempts, rejects what waits.
 * (`flushQueue` is ioredis's own, not in its types: what it does when it gives up for good.)
 */
function failQueuedAfter(limit: number) {
  return function (this: Cluster, times: number): number {
    const cluster = this as unknown as { flushQueue?: (error: Error) => void };
    if (times > limit) cluster.flushQueue?.(new Error('Redis Cluster unreachable; reconnecting'));
    return reconnectDelay(times);
  };
}

/**
 * The servers that hold the data: the one server, or a cluster's masters. For what must ask
 * every node: SCAN, CONFIG GET. A cluster's masters are known once it has the slot map, which
 * the PING waits for (and rejects when the cluster cannot be reached).
 */
export async function mastersOf(client: RedisClient): Promise<Redis[]> {
  if (!(client instanceof Cluster)) return [client];
  await client.ping();
  return client.nodes('master');
}
