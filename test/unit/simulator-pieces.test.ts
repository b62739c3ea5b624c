/**
 * The simulator's pure pieces: the cursor codec, the token bucket, the Fenwick tree behind paging,
 * uuids, and reading `npm run sim`'s environment.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { MINUTE, SECOND } from '../../src/lib/duration.js';
import { decodeCursor, encodeCursor } from '../../simulator/cursor.js';
import { simulatorOptionsFromEnv } from '../../simulator/env.js';
import { Fenwick } from '../../simulator/fenwick.js';
import { TokenBucket } from '../../simulator/token-bucket.js';
import { randomUuid } from '../../simulator/uuid.js';

describe('cursor codec', () => {
  it('is base64 of {"offset":N}, as the real API makes it', () => {
    expect(encodeCursor(50)).toBe(Buffer.from('{"offset":50}').toString('base64'));
  });

  it('round-trips every offset, in either base64 alphabet', () => {
    fc.assert(
      fc.property(fc.nat(), (offset) => {
        const cursor = encodeCursor(offset);
        expect(decodeCursor(cursor)).toBe(offset);
        expect(decodeCursor(Buffer.from(cursor, 'base64').toString('base64url'))).toBe(offset);
      }),
    );
  });

  it('refuses what is not one of its cursors', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    for (const bad of [
      '',
      '%%%',
      b64('not json'),
      b64('[]'),
      b64('null'),
      b64('{"offset":-1}'),
      b64('{"offset":1.5}'),
      b64('{"offset":"3"}'),
      b64('{}'),
      'A'.repeat(500),
    ]) {
      expect(decodeCursor(bad), bad).toBeUndefined();
    }
  });
});

describe('token bucket', () => {
  it('lets a burst of one second through, then one call per 1/rate', () => {
    let now = 1000;
    const bucket = new TokenBucket(4, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 0, 0]);
    expect(bucket.take()).toBe(250);
    now += 100;
    expect(bucket.take()).toBe(150); // a refusal takes nothing: the wait only shrinks
    now += 150;
    expect(bucket.take()).toBe(0);
    expect(bucket.take()).toBe(250);
  });

  it('never stores more than its capacity', () => {
    let now = 0;
    const bucket = new TokenBucket(2, () => now);
    now += 60 * SECOND;
    expect([bucket.take(), bucket.take()]).toEqual([0, 0]);
    expect(bucket.take()).toBeGreaterThan(0);
  });

  it('keeps the average rate over a long run', () => {
    let now = 0;
    const bucket = new TokenBucket(10, () => now);
    let passed = 0;
    for (let ms = 0; ms < 10 * SECOND; ms += 7) {
      now = ms;
      if (bucket.take() === 0) passed++;
    }
    expect(passed).toBeGreaterThanOrEqual(100);
    expect(passed).toBeLessThanOrEqual(110); // 10 s at 10/s plus the first burst
  });
});

describe('Fenwick tree', () => {
  it('agrees with a plain array under pushes, sets and truncation', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), flag: fc.boolean() }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), flag: fc.boolean() }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
        const tree = new Fenwick(4); // small, so it grows
        const model: boolean[] = [];
        for (const o of ops) {
          if (o.kind === 'push') {
            tree.push(o.flag);
            model.push(o.flag);
          } else if (model.length > 0 && o.kind === 'set') {
            tree.set(o.at % model.length, o.flag);
            model[o.at % model.length] = o.flag;
          } else if (o.kind === 'truncate' && o.at % 10 === 0) {
            tree.truncate(o.at % (model.length + 1));
            model.length = Math.min(model.length, o.at % (model.length + 1));
          }
        }
        const set = model.flatMap((flag, slot) => (flag ? [slot] : []));
        expect(tree.size).toBe(model.length);
        expect(tree.total).toBe(set.length);
        set.forEach((slot, k) => expect(tree.find(k)).toBe(slot));
        expect(tree.find(set.length)).toBe(-1);
        expect(tree.find(-1)).toBe(-1);
      }),
      { numRuns: 60 },
    );
  });
});

describe('uuids', () => {
  it('are version 4, lower-case and distinct', () => {
    const ids = Array.from({ length: 5000 }, () => randomUuid());
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('npm run sim environment', () => {
  it('has the documented defaults', () => {
    expect(simulatorOptionsFromEnv({})).toEqual({
      host: '127.0.0.1',
      port: 8787,
      clientId: 'demo-client-id',
      clientSecret: 'demo-client-secret',
      appTokenTtlMs: 15 * MINUTE,
      scopedTokenTtlMs: 20 * MINUTE,
    });
  });

  it('reads every variable, port 0 included', () => {
    const env = {
      SIM_HOST: '0.0.0.0',
      SIM_PORT: '0',
      SIM_CLIENT_ID: 'id',
      SIM_CLIENT_SECRET: 'secret',
      SIM_APP_TOKEN_TTL: '2s',
      SIM_SCOPED_TOKEN_TTL: '1h',
    };
    expect(simulatorOptionsFromEnv(env)).toEqual({
      host: '0.0.0.0',
      port: 0,
      clientId: 'id',
      clientSecret: 'secret',
      appTokenTtlMs: 2 * SECOND,
      scopedTokenTtlMs: 60 * MINUTE,
    });
  });

  it('names the variable of a bad value', () => {
    for (const [name, value] of [
      ['SIM_PORT', '80a'],
      ['SIM_PORT', '70000'],
      ['SIM_APP_TOKEN_TTL', '15 minutes'],
      ['SIM_SCOPED_TOKEN_TTL', '0'],
    ] as const) {
      expect(() => simulatorOptionsFromEnv({ [name]: value })).toThrow(new RegExp(`^${name}: `));
    }
  });
});
