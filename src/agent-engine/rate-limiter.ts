/**
 * Client-side rate limits for Agent Engine calls. The API documents no limit, so we assume one
 * shared by every process of the organization (docs/agent-engine-api.md): {@link RedisRateLimiter}
 * shares one budget among daemons, {@link InMemoryRateLimiter} limits one process (tests, the CLI).
 *
 * Both use GCRA (the generic cell rate algorithm): one stored number, the theoretical arrival time
 * (TAT) of the next call. A call reserves its slot at once by pushing the TAT one interval further
 * and then sleeps until its slot comes, so waiting callers never spin and are served in order.
 * Calls go one every `perMs / max`, with no burst: a limit set to the API's quota is a limit, and
 * any window of `perMs` (or of ten times it) holds at most `max` (ten times `max`) calls. A burst
 * of `max` on top, as this once allowed, put 110–119% of the limit into a 10-second window.
 *
 * A 429 pauses the limit for its (capped) `Retry-After`: {@link RateLimiter.pause}. The Redis
 * limiter stores the pause's end next to the TAT, so every daemon sharing the budget waits it
 * out, not only the one that met the 429; the key expires with the pause, which ends by itself.
 * A pause also stops the calls that reserved their slots before it and are still waiting for
 * them: a slot, when it comes, is checked against the pause once more (the shared one, read from
 * Redis, for a slot reserved a while ago), and a paused call takes a new slot after the pause.
 */
import { createHash } from 'node:crypto';

import type { RedisClient } from '../lib/redisClient.js';
import { classify } from '../lib/errors.js';
import { abortedError, sleep } from './retry.js';

/** Called before every Agent Engine API call; resolves when the call may go. */
export interface RateLimiter {
  /** Waits for a slot; rejects with a RetryableError if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** No call may go for `ms` from now (a 429's Retry-After); a longer pause in force is kept. */
  pause(ms: number): Promise<void>;
  /** When the pause in force ends (epoch ms), or undefined when none is. */
  pausedUntil(): Promise<number | undefined>;
}

/** `max` calls per `perMs` milliseconds, evenly spaced. */
export interface RateLimit {
  readonly max: number;
  readonly perMs: number;
}

/**
 * Calls are spaced for this share of the limit. Calls that leave evenly arrive a little unevenly
 * (event-loop lag, a connection being opened): 1% headroom absorbs 100 ms of such jitter per
 * 10-second window, so the count the API itself makes stays within the limit.
 */
const HEADROOM = 0.99;

/** The spacing of calls under `limit`, in milliseconds. */
const intervalMsOf = ({ max, perMs }: RateLimit) => perMs / (max * HEADROOM);

function assertLimit({ max, perMs }: RateLimit): void {
  if (!(Number.isInteger(max) && max >= 1 && perMs > 0)) {
    throw new RangeError(`invalid rate limit ${max}/${perMs}ms`);
  }
}

/** One process's limit, held in memory. */
export class InMemoryRateLimiter implements RateLimiter {
  readonly #intervalMs: number;
  #tat = 0;
  /** The pause's end, on `performance.now()`. */
  #pauseEnd = 0;

  constructor(limit: RateLimit) {
    assertLimit(limit);
    this.#intervalMs = intervalMsOf(limit);
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw abortedError(signal);
      // Real time, not the injected Clock: a rate is about how fast we actually hit the API.
      const now = performance.now();
      // After a pause calls resume at the steady rate, not in a burst.
      const tat = Math.max(this.#tat, now, this.#pauseEnd);
      this.#tat = tat + this.#intervalMs;
      const pauseEnd = this.#pauseEnd;
      // A timer may fire a fraction of a millisecond early: the rest is waited out too.
      for (let left = tat - now; left > 0; left = tat - performance.now())
        await sleep(left, signal);
      // Paused while it waited: the call takes a slot after the pause instead.
      if (this.#pauseEnd === pauseEnd || this.#pauseEnd <= performance.now()) return;
    }
  }

  async pause(ms: number): Promise<void> {
    this.#pauseEnd = Math.max(this.#pauseEnd, performance.now() + ms);
  }

  async pausedUntil(): Promise<number | undefined> {
    const left = this.#pauseEnd - performance.now();
    return left > 0 ? Date.now() + left : undefined;
  }
}

/**
 * One GCRA step, atomically, on Redis's clock (daemons' clocks differ; Redis's is the one they
 * share). Times are whole microseconds, which a Lua number holds exactly (< 2^53) and
 * `%.0f` writes back without rounding. Reserves `count` consecutive slots and returns how long
 * the caller must wait for the first, in microseconds (the others follow one interval apart).
 * A pause in force (KEYS[2], its end in µs) pushes the TAT past its end plus the tolerance, so
 * the first call after it waits for the end and the rest follow at the steady rate, not a burst.
 * KEYS[1] the TAT key; KEYS[2] the pause key; ARGV[1] interval µs; ARGV[2] burst tolerance µs;
 * ARGV[3] count.
 */
const GCRA_SCRIPT = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local count = tonumber(ARGV[3] or '1')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
if pause > now and tat < pause + tolerance then tat = pause + tolerance end
local nextTat = tat + interval * count
local ttlMs = math.ceil((nextTat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', nextTat), 'PX', ttlMs)
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
return wait
`;

const GCRA_SHA = createHash('sha1').update(GCRA_SCRIPT).digest('hex');

/**
 * Extends the shared pause to `now + ARGV[1]` ms on Redis's clock, unless a longer one is in
 * force; the key expires when the pause ends. Returns the pause's end in epoch µs.
 */
const PAUSE_SCRIPT = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ms = tonumber(ARGV[1])
local untilUs = now + ms * 1000
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilUs > current then
  redis.call('SET', KEYS[1], string.format('%.0f', untilUs), 'PX', ms)
  return string.format('%.0f', untilUs)
end
return string.format('%.0f', current)
`;

const PAUSE_SHA = createHash('sha1').update(PAUSE_SCRIPT).digest('hex');

/** How much budget one Redis round trip may reserve for a process, in microseconds. */
const LOCAL_WINDOW_US = 5_000;

/**
 * A slot reserved at least this long (ms) before it comes reads the shared pause again before its
 * call goes: another daemon may have met a 429 meanwhile. A slot that comes at once goes on the
 * script's word, which saw the pause in force when it reserved the slot.
 */
const RECHECK_AFTER_MS = 2;

/** How long (ms) before its slot a call begins to read the shared pause: about a round trip. */
const PAUSE_READ_LEAD_MS = 2;

/** Calls whose slots come within this long (ms) of each other share one read of the pause. */
const SHARED_CHECK_MS = 1;

/** A pause that ends within this long (ms) is waited out, not answered with a new slot. */
const PAUSE_SLACK_MS = 5;

/** A reserved slot: when it may go and when it was reserved, on `performance.now()`. */
interface Slot {
  readonly at: number;
  readonly reservedAt: number;
}

/**
 * The limit every daemon shares, as one Redis key. The key expires once the budget is full again,
 * so an idle limiter leaves nothing behind.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: RedisClient;
  readonly #key: string;
  readonly #pauseKey: string;
  readonly #intervalUs: number;
  /**
   * Slots reserved per Redis round trip: as many as fit in {@link LOCAL_WINDOW_US}, at least one.
   * At the default 10/s that is one (every call asks Redis); at thousands per second a sweep's
   * pages stop paying a round trip each, and a daemon holds at most a few milliseconds of budget.
   */
  readonly #batch: number;
  /** Reserved slots not yet used. */
  #slots: Slot[] = [];
  /**
   * The end of a pause this process set or read from Redis (epoch ms): its reserved slots must
   * not undercut it.
   */
  #pauseEnd = 0;
  /** The latest read of the shared pause: when it began (`performance.now()`) and its answer. */
  #check: { readonly startedAt: number; readonly leftMs: Promise<number> } | undefined;
  /**
   * This process's own spacing, applied when a caller wakes: after the event loop stalls (a busy
   * or starved machine), every timer that came due meanwhile fires at once, and without this the
   * calls whose slots passed would go together, more than the limit in one window.
   */
  readonly #spacing: InMemoryRateLimiter;

  /**
   * `key` is used as is (e.g. `${queuePrefix}:api-rate`), the pause lives at `${key}:pause`;
   * every sharer must pass the same key.
   */
  constructor(redis: RedisClient, key: string, limit: RateLimit) {
    assertLimit(limit);
    this.#redis = redis;
    this.#key = key;
    this.#pauseKey = `${key}:pause`;
    this.#intervalUs = Math.ceil(intervalMsOf(limit) * 1000);
    this.#batch = Math.max(1, Math.min(limit.max, Math.floor(LOCAL_WINDOW_US / this.#intervalUs)));
    this.#spacing = new InMemoryRateLimiter(limit);
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const { pauseRead } = await this.#acquireSlot(signal);
      // A pause this process set or learned while the call waited: a slot reserved before it
      // must not go out during it. The call takes a new one, which the script places after the
      // pause, at the steady rate.
      const left = this.#pauseEnd - Date.now();
      if (left > PAUSE_SLACK_MS) {
        this.#slots = [];
        continue;
      }
      if (left > 0) await sleep(left, signal);
      if (!pauseRead) return;
      // Another daemon may have met a 429 while this call waited for its slot.
      const shared = await pauseRead;
      if (shared <= 0) return;
      this.#pauseEnd = Math.max(this.#pauseEnd, Date.now() + shared);
      this.#slots = [];
    }
  }

  async pause(ms: number): Promise<void> {
    this.#pauseEnd = Math.max(this.#pauseEnd, Date.now() + ms);
    this.#slots = [];
    try {
      await this.#eval(PAUSE_SCRIPT, [this.#pauseKey], [Math.max(1, Math.ceil(ms))]);
    } catch (error) {
      throw classify(error);
    }
  }

  async pausedUntil(): Promise<number | undefined> {
    const [value, ttl] = await Promise.all([
      this.#redis.get(this.#pauseKey),
      this.#redis.pttl(this.#pauseKey),
    ]);
    // The stored end is on Redis's clock; the TTL turns it into ours.
    return value !== null && ttl > 0 ? Date.now() + ttl : undefined;
  }

  /**
   * Waits for a slot (the next reserved one, or a new round trip's). A slot reserved a while
   * before it comes also brings a read of the shared pause, begun {@link PAUSE_READ_LEAD_MS}
   * before the slot so that its answer is in hand when the slot comes: the call then leaves on
   * its slot, not a round trip after it (round trips that end together would bunch the calls).
   */
  async #acquireSlot(signal?: AbortSignal): Promise<{ pauseRead?: Promise<number> }> {
    if (signal?.aborted) throw abortedError(signal);
    let slot = this.#slots.shift();
    if (slot === undefined) {
      let waitUs: number;
      try {
        waitUs = Number(await this.#step());
      } catch (error) {
        // Redis down or refusing: retryable like any other infrastructure failure.
        throw classify(error);
      }
      // The script reserved these slots; the first is ours, the rest wait here for later calls.
      const reservedAt = performance.now();
      const at = reservedAt + waitUs / 1000;
      slot = { at, reservedAt };
      for (let i = 1; i < this.#batch; i += 1)
        this.#slots.push({ at: at + (i * this.#intervalUs) / 1000, reservedAt });
    }
    let pauseRead: Promise<number> | undefined;
    if (slot.at - slot.reservedAt >= RECHECK_AFTER_MS) {
      await sleep(Math.floor(slot.at - PAUSE_READ_LEAD_MS - performance.now()), signal);
      pauseRead = this.#sharedPauseLeft();
      // Awaited by acquire; an abort below must not leave its failure unhandled.
      pauseRead.catch(() => {});
    }
    await sleep(Math.ceil(slot.at - performance.now()), signal);
    await this.#spacing.acquire(signal);
    return pauseRead ? { pauseRead } : {};
  }

  /**
   * How long the shared pause has left (ms; 0: none), read from Redis by one round trip that the
   * calls waking together share: one that began within {@link SHARED_CHECK_MS} answers for them.
   */
  #sharedPauseLeft(): Promise<number> {
    const now = performance.now();
    if (this.#check && this.#check.startedAt >= now - SHARED_CHECK_MS) return this.#check.leftMs;
    const leftMs = this.#redis.pttl(this.#pauseKey).then(
      (ttl) => Math.max(0, ttl),
      (error: unknown) => {
        throw classify(error);
      },
    );
    this.#check = { startedAt: now, leftMs };
    return leftMs;
  }

  #step(): Promise<unknown> {
    return this.#eval(
      GCRA_SCRIPT,
      [this.#key, this.#pauseKey],
      // A burst tolerance of 0: no burst (see the top of this file).
      [this.#intervalUs, 0, this.#batch],
    );
  }

  async #eval(script: string, keys: string[], args: number[]): Promise<unknown> {
    const sha = script === GCRA_SCRIPT ? GCRA_SHA : PAUSE_SHA;
    try {
      return await this.#redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      // First use on this Redis (or after SCRIPT FLUSH): send the script itself, which caches it.
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return this.#redis.eval(script, keys.length, ...keys, ...args);
    }
  }
}
