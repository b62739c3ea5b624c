/**
 * The breaker (Entra's quarantine): when calls keep failing with an auth error even after a fresh
 * token (revoked credentials), stop mutating, say why once, probe slowly, and close by itself when
 * a call succeeds. Its state lives in Redis so every daemon, and `status`, see the same breaker.
 */

import type { RedisClient } from '../lib/redisClient.js';
import { SECOND } from '../lib/duration.js';

export interface BreakerState {
  readonly state: 'closed' | 'open';
  readonly reason?: string;
  readonly openedAt?: number;
}

export interface BreakerOptions {
  /** Consecutive auth failures, across daemons, that open it. */
  readonly threshold?: number;
  /** How long it waits between probes while open. */
  readonly probeEveryMs?: number;
}

export class Breaker {
  readonly #redis: RedisClient;
  readonly #key: string;
  readonly threshold: number;
  readonly probeEveryMs: number;

  constructor(redis: RedisClient, prefix: string, options: BreakerOptions = {}) {
    this.#redis = redis;
    this.#key = `${prefix}:breaker`;
    this.threshold = options.threshold ?? 5;
    this.probeEveryMs = options.probeEveryMs ?? 30 * SECOND;
  }

  async state(): Promise<BreakerState> {
    const raw = await this.#redis.get(this.#key);
    if (!raw) return { state: 'closed' };
    const parsed = JSON.parse(raw) as { reason: string; openedAt: number };
    return { state: 'open', ...parsed };
  }

  /**
   * May this job call the API now? While open, one probe per `probeEveryMs` across all daemons;
   * the others get the time to wait.
   */
  async admit(): Promise<{ ok: true; clean: boolean } | { ok: false; waitMs: number }> {
    // One round trip on the healthy path: is it open, and is there a failure count to clear?
    const [open, fails] = await this.#redis.mget(this.#key, `${this.#key}:fails`);
    if (!open) return { ok: true, clean: !fails };
    const probe = await this.#redis.set(`${this.#key}:probe`, '1', 'PX', this.probeEveryMs, 'NX');
    if (probe === 'OK') return { ok: true, clean: false };
    const ttl = await this.#redis.pttl(`${this.#key}:probe`);
    return { ok: false, waitMs: Math.max(ttl, 100) };
  }

  /** Returns true when this failure opened the breaker (the caller logs it, once). */
  async recordAuthFailure(reason: string, now: number): Promise<boolean> {
    const fails = await this.#redis.incr(`${this.#key}:fails`);
    if (fails < this.threshold) return false;
    const opened = await this.#redis.set(
      this.#key,
      JSON.stringify({ reason, openedAt: now }),
      'NX',
    );
    if (opened === 'OK') {
      await this.#redis.set(`${this.#key}:probe`, '1', 'PX', this.probeEveryMs);
      return true;
    }
    return false;
  }

  /**
   * A call succeeded: close. Returns true when it was open. `clean` (from {@link admit}: nothing
   * was open or counted then) skips the Redis round trip on the healthy path.
   */
  async recordSuccess(clean = false): Promise<boolean> {
    if (clean) return false;
    const results = await this.#redis.multi().del(`${this.#key}:fails`).del(this.#key).exec();
    return results?.[1]?.[1] === 1;
  }
}
