/**
 * A 429 pauses every daemon sharing the rate limit, for its Retry-After capped at
 * MAX_RETRY_AFTER: a daemon that met it and another that did not, on one Redis and the simulator's
 * 429 fault. The pause shows in `status` and `/metrics` and ends by itself.
 */
import { randomUUID } from 'node:crypto';

import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { getStatus } from '../../src/ops/status.js';
import { renderStatus } from '../../src/cli/commands/status.js';
import { RetryableError } from '../../src/lib/errors.js';
import { type Harness, startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const GET_ONE = 'GET /api/v1/workspaces/{id}';

async function pausedSeconds(url: string): Promise<number> {
  const answer = await request(`${url}/metrics`);
  const text = await answer.body.text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('customer_sync_agent_engine_paused_seconds '));
  return Number(line?.split(' ')[1]);
}

describe('a 429 with a long Retry-After', () => {
  it('pauses every daemon for at most MAX_RETRY_AFTER, visibly, and the pause ends by itself', async () => {
    h = await startHarness({ env: { MAX_RETRY_AFTER: '2s' } });
    const daemon = await h.startDaemon();
    const other = h.app();
    // The server asks for an hour.
    h.sim.faults.set({ p429: 1, retryAfterSeconds: 3600, onlyRoutes: [GET_ONE] });
    const error = await daemon.app
      .engine()
      .getWorkspace(randomUUID())
      .catch((e: unknown) => e);
    const metAt = Date.now();
    expect(error).toBeInstanceOf(RetryableError);
    // Treated as the cap, not as an hour.
    expect((error as RetryableError).retryAfterMs).toBe(2000);
    h.sim.faults.reset();
    const callsBefore = h.sim.stats.count(GET_ONE);

    // The other daemon never met the 429, yet it waits too: no call reaches the server meanwhile.
    const call = other.engine().getWorkspace(randomUUID());
    const status = await getStatus(other);
    expect(status.rateLimitedUntil).not.toBeNull();
    const until = Date.parse(String(status.rateLimitedUntil));
    expect(until).toBeGreaterThan(Date.now());
    expect(until).toBeLessThanOrEqual(metAt + 2000 + 100);
    expect(renderStatus(status).join('\n')).toContain('rate limited (429) until');
    expect(await pausedSeconds(daemon.url)).toBeGreaterThan(0);
    expect(await pausedSeconds(daemon.url)).toBeLessThanOrEqual(2);
    await waitFor(() => Date.now() > metAt + 1500, { timeoutMs: 5000, what: 'most of the pause' });
    expect(h.sim.stats.count(GET_ONE)).toBe(callsBefore);
    await expect(call).resolves.toBeUndefined();
    const doneAt = Date.now();
    expect(doneAt - metAt).toBeGreaterThanOrEqual(1900);
    expect(doneAt - metAt).toBeLessThan(2000 + 3000);

    // Over: status, gauge and Redis all say so, with nobody lifting it.
    expect((await getStatus(other)).rateLimitedUntil).toBeNull();
    expect(await pausedSeconds(daemon.url)).toBe(0);
    expect(await other.redis.exists(`${h.prefix}:api-rate:pause`)).toBe(0);
  });
});

describe('a pause recorded while calls wait for their slots', () => {
  it('stops the calls of every daemon already waiting: none reaches the server before it ends', async () => {
    // 20/s: three daemons' 24 calls reserve slots ~50 ms apart, over about 1.2 s.
    h = await startHarness({ env: { API_RATE_LIMIT: '20/s' } });
    const apps = [h.app(), h.app(), h.app()];
    // Tokens first, so the calls below wait only for their slots.
    for (const app of apps) await app.engine().getWorkspace(randomUUID());
    h.sim.stats.reset();
    const calls = apps.flatMap((app) =>
      Array.from({ length: 8 }, () => app.engine().getWorkspace(randomUUID())),
    );
    await waitFor(() => h!.sim.stats.count(GET_ONE) >= 3, { timeoutMs: 5000, intervalMs: 5 });
    // One daemon records a pause (as it does on a 429): the others' calls are already waiting.
    const pausedAt = performance.now();
    await apps[0]!.rateLimiter.pause(1000);
    const recordedAt = performance.now();
    await Promise.all(calls);
    const arrivals = h.sim.stats.arrivals();
    expect(arrivals).toHaveLength(24);
    // A call already on the wire when the pause was recorded may arrive a moment after it.
    const during = arrivals.filter((t) => t > recordedAt + 10 && t < pausedAt + 990);
    console.info(
      `pause while waiting: ${during.length} of 24 calls arrived during the 1 s pause; busiest 200 ms window ${h.sim.stats.busiestWindow(200)}`,
    );
    expect(
      during,
      `arrivals during the pause, ms after it: ${during.map((t) => Math.round(t - pausedAt)).join(', ')}`,
    ).toEqual([]);
    // After it the calls resume at the steady rate, not in a burst.
    const after = arrivals.filter((t) => t >= pausedAt + 990);
    expect(after.length).toBeGreaterThan(10);
    expect(h.sim.stats.busiestWindow(200)).toBeLessThanOrEqual(6);
  });
});
