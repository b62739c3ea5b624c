/** `REDIS_URL` for one server or a Redis Cluster, and the hash-tag rule a cluster needs. */
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config.js';
import { redact } from '../../src/ops/preflight.js';
import { connectRedis, hashTag, parseRedisUrl, redactPassword } from '../../src/lib/redisClient.js';

describe('parseRedisUrl', () => {
  it('reads a cluster URL: its nodes, credentials and TLS', () => {
    expect(parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001/')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      username: undefined,
      password: undefined,
      tls: false,
    });
    expect(
      parseRedisUrl('rediss+cluster://app:p%40ss@cache-1.internal:6380,[::1]:6381'),
    ).toMatchObject({
      nodes: [
        { host: 'cache-1.internal', port: 6380 },
        { host: '::1', port: 6381 },
      ],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
    expect(parseRedisUrl('redis+cluster://:secret@h:1')).toMatchObject({
      username: undefined,
      password: 'secret',
    });
  });

  it('keeps a single server URL as it is, and refuses anything else', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2')).toEqual({
      kind: 'single',
      url: 'redis://127.0.0.1:6379/2',
    });
    for (const bad of [
      'redis+cluster://',
      'redis+cluster://host', // a node needs its port
      'redis+cluster://h:1,h:99999',
      'redis+cluster://h:1/3', // a cluster has no database numbers
      'redis+cluster://h:1?tls=true',
      'memcached://h:1',
      'h:1,h:2',
    ]) {
      expect(parseRedisUrl(bad), bad).toBeUndefined();
    }
  });

  it('connects with the client the URL calls for', () => {
    const cluster = connectRedis('redis+cluster://app:s3cret@127.0.0.1:1,127.0.0.1:2', {
      lazyConnect: true,
      maxRetriesPerRequest: null,
    });
    const single = connectRedis('redis://127.0.0.1:1', { lazyConnect: true });
    expect(cluster).toBeInstanceOf(Cluster);
    // Per-node options reach every node's connection; BullMQ's workers require this one.
    expect((cluster as Cluster).options.redisOptions).toMatchObject({
      maxRetriesPerRequest: null,
      username: 'app',
      password: 's3cret',
    });
    expect(single).toBeInstanceOf(Redis);
    cluster.disconnect();
    single.disconnect();
  });
});

describe('hashTag', () => {
  it.each([
    ['{customer-sync}', 'customer-sync'],
    ['prod:{cs}', 'cs'],
    ['{a}{b}', 'a'],
    ['customer-sync', undefined],
    ['{}customer-sync', undefined], // an empty tag hashes the whole key
    ['cs}{', undefined],
    ['{cs', undefined],
  ])('%s → %s', (prefix, tag) => expect(hashTag(prefix)).toBe(tag));
});

describe('REDIS_URL in the configuration', () => {
  it('accepts a cluster with a hash-tagged prefix', () => {
    const env = { REDIS_URL: 'redis+cluster://h1:7000,h2:7000', QUEUE_PREFIX: '{customer-sync}' };
    expect(loadConfig(env)).toMatchObject({
      redisUrl: 'redis+cluster://h1:7000,h2:7000',
      queuePrefix: '{customer-sync}',
    });
  });

  it('refuses a cluster whose prefix is not hash-tagged, in one line', () => {
    for (const prefix of [undefined, 'customer-sync', '{}cs']) {
      const run = () => loadConfig({ REDIS_URL: 'redis+cluster://h1:7000', QUEUE_PREFIX: prefix });
      expect(run).toThrow(ConfigError);
      expect(run).toThrow(/^QUEUE_PREFIX=".*" is invalid with a Redis Cluster.*\{customer-sync\}/);
    }
  });

  it('names what it expects for a bad URL, and never echoes its password', () => {
    const run = () => loadConfig({ REDIS_URL: 'redis+cluster://app:hunter2@h1' });
    expect(run).toThrow('REDIS_URL="redis+cluster://app:***@h1" is invalid');
    expect(run).toThrow('redis+cluster://host:port,host:port');
  });

  it('prints a cluster URL without its password', () => {
    const url = 'redis+cluster://app:hunter2@h1:7000,h2:7000';
    expect(redact(url)).toBe('redis+cluster://app:***@h1:7000,h2:7000');
    expect(redactPassword('redis+cluster://h1:7000,h2:7000')).toBe(
      'redis+cluster://h1:7000,h2:7000',
    );
  });
});
