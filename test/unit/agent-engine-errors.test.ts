import { describe, expect, it } from 'vitest';

import { errorReason, failureMessage } from '../../src/agent-engine/error-body.js';
import { InMemoryRateLimiter } from '../../src/agent-engine/rate-limiter.js';
import { backoffMs, parseRetryAfter, sleep } from '../../src/agent-engine/retry.js';
import { RetryableError } from '../../src/lib/errors.js';

describe('errorReason reads all three error shapes', () => {
  it('reads ApiErrorResponse with field errors', () => {
    const body = {
      message: 'Validation failed',
      errors: [{ field: 'name', message: 'Workspace name already exists', error_code: 'dup' }],
    };
    expect(errorReason(JSON.stringify(body))).toBe('name: Workspace name already exists');
  });

  it('falls back to the message of an ApiErrorResponse without errors', () => {
    expect(errorReason('{"message":"Boom","errors":[]}')).toBe('Boom');
  });

  it('reads FastAPI string and list details, dropping the location source', () => {
    expect(errorReason('{"detail":"Workspace not found"}')).toBe('Workspace not found');
    const list = {
      detail: [
        { loc: ['query', 'limit'], msg: 'Input should be less than or equal to 100', type: 'x' },
        { loc: ['body', 'name'], msg: 'Field required', type: 'missing' },
      ],
    };
    expect(errorReason(JSON.stringify(list))).toBe(
      'limit: Input should be less than or equal to 100; name: Field required',
    );
  });

  it('reads {error, message}', () => {
    expect(errorReason('{"error":"rate_limited","message":"Slow down"}')).toBe(
      'rate_limited: Slow down',
    );
    expect(errorReason('{"error":"Bad gateway"}')).toBe('Bad gateway');
  });

  it('quotes a body of no known shape, shortened, and says nothing of an empty one', () => {
    expect(errorReason('<html>502 Bad Gateway</html>')).toBe('<html>502 Bad Gateway</html>');
    expect(errorReason('x'.repeat(500))).toHaveLength(201);
    expect(errorReason('  ')).toBeUndefined();
    expect(errorReason('{"unexpected":true}')).toBe('{"unexpected":true}');
  });

  it('builds route → status: reason and scrubs secrets and JWTs', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    const body = JSON.stringify({ detail: `bad secret s3cr3t-value and token ${jwt}` });
    const message = failureMessage('POST /account/applications/token', 401, body, ['s3cr3t-value']);
    expect(message).toBe(
      'POST /account/applications/token → 401: bad secret [redacted] and token [redacted]',
    );
  });
});

describe('retry timing', () => {
  it('reads Retry-After as whole seconds or an HTTP date, never negative', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('1', now)).toBe(1000);
    expect(parseRetryAfter(' 30 ', now)).toBe(30_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('backs off with full jitter under a cap that doubles up to the maximum', () => {
    const policy = { baseDelayMs: 200, maxDelayMs: 1000 };
    const top = () => 0.999_999;
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, policy, top))).toEqual([
      199, 399, 799, 999, 999,
    ]);
    expect(backoffMs(3, policy, () => 0)).toBe(0);
    const spread = new Set(Array.from({ length: 50 }, () => backoffMs(4, policy)));
    expect(spread.size).toBeGreaterThan(10);
  });

  it('sleep rejects at once when aborted, as a RetryableError', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = sleep(60_000, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(RetryableError);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('sleep waits at least as long as asked', async () => {
    const started = Date.now();
    await sleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(30);
  });
});

describe('InMemoryRateLimiter', () => {
  it('lets the first call go at once, then one per interval: no burst', async () => {
    const limiter = new InMemoryRateLimiter({ max: 5, perMs: 100 });
    const started = performance.now();
    await limiter.acquire();
    expect(performance.now() - started).toBeLessThan(15);
    for (let i = 0; i < 5; i += 1) await limiter.acquire();
    // Five more at one per 20 ms: the sixth call goes ~100 ms after the first, not at once.
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('stops waiting when the signal aborts', async () => {
    const limiter = new InMemoryRateLimiter({ max: 1, perMs: 60_000 });
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(RetryableError);
  });

  it('a pause stops the calls already waiting for their slots until it ends', async () => {
    const limiter = new InMemoryRateLimiter({ max: 10, perMs: 100 }); // one per ~10 ms
    await limiter.acquire();
    const started = performance.now();
    const went: number[] = [];
    // Four calls wait for their slots, ~10 to ~40 ms on, when the pause comes.
    const calls = Array.from({ length: 4 }, () =>
      limiter.acquire().then(() => went.push(performance.now() - started)),
    );
    await limiter.pause(100);
    await Promise.all(calls);
    expect(went.filter((ms) => ms < 100)).toEqual([]);
    expect(went).toHaveLength(4);
  });
});
