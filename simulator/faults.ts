/**
 * Faults injected at runtime: latency, random 429s and 5xx, a 504 on delete that still deletes, a
 * list page that always fails, a real shared rate limit, and revoking every token. All off by
 * default; none touches the token endpoint unless `faultTokenEndpoint` is set.
 */
import { performance } from 'node:perf_hooks';

import { TokenBucket } from './token-bucket.js';

/** The fault settings; `set` takes any part of them. */
export interface FaultSettings {
  /** Added to every request the faults apply to, before it is answered. */
  readonly latencyMs: number;
  /** Probability of answering 429 with `Retry-After: retryAfterSeconds`. */
  readonly p429: number;
  /** The `Retry-After` (whole seconds) of a random 429. */
  readonly retryAfterSeconds: number;
  /** Probability of answering one of `statuses5xx` (nothing is changed). */
  readonly p5xx: number;
  readonly statuses5xx: readonly number[];
  /** Probability that a DELETE answers 504 although the delete completed. */
  readonly p504OnDelete: number;
  /** List pages whose cursor offset is one of these answer 500, every time (no cursor = 0). */
  readonly failPageAtOffsets: readonly number[];
  /** A token bucket shared by every caller: past it, 429 with Retry-After. 0 = no limit. */
  readonly rateLimitPerSecond: number;
  /**
   * When set, faults (latency included) hit only these routes, written as the stats write them
   * (`PUT /api/v1/workspaces/{id}`) or as a bare path template (`/api/v1/workspaces`).
   */
  readonly onlyRoutes: readonly string[] | undefined;
  /** Let faults hit `POST /api/v1/account/applications/token` too. */
  readonly faultTokenEndpoint: boolean;
  /**
   * A GET of a deleted id answers 200 with the object and `tombstone: true` instead of 404 (the
   * API's schema has the field; docs/agent-engine-api.md does not promise what a deleted id gets).
   */
  readonly tombstoneOnGet: boolean;
}

/** The faults as tests drive them. */
export interface Faults {
  /** Changes some settings, leaving the others as they are. */
  set(partial: Partial<FaultSettings>): void;
  /** The settings in force. */
  readonly settings: Readonly<FaultSettings>;
  /** Every token issued so far answers 401 `Invalid token` from now on; new mints work. */
  revokeAllTokens(): void;
  /** Every setting back to off (revoked tokens stay revoked). */
  reset(): void;
}

/** An answer a fault imposes instead of the real one. */
export interface FaultAnswer {
  readonly status: number;
  readonly retryAfterSeconds?: number;
}

const OFF: FaultSettings = Object.freeze({
  latencyMs: 0,
  p429: 0,
  retryAfterSeconds: 1,
  p5xx: 0,
  statuses5xx: Object.freeze([500, 502, 503]),
  p504OnDelete: 0,
  failPageAtOffsets: Object.freeze([]),
  rateLimitPerSecond: 0,
  onlyRoutes: undefined,
  faultTokenEndpoint: false,
  tombstoneOnGet: false,
});

/** The settings plus the decisions the server asks of them. */
export class FaultInjector implements Faults {
  #settings: FaultSettings = OFF;
  #failPages: ReadonlySet<number> = new Set();
  #only: ReadonlySet<string> | undefined;
  #bucket: TokenBucket | undefined;
  readonly #revoke: () => void;
  readonly #random: () => number;

  constructor(revoke: () => void, random: () => number = Math.random) {
    this.#revoke = revoke;
    this.#random = random;
  }

  get settings(): Readonly<FaultSettings> {
    return this.#settings;
  }

  set(partial: Partial<FaultSettings>): void {
    const next: FaultSettings = { ...this.#settings, ...partial };
    if (next.statuses5xx.length === 0) throw new RangeError('statuses5xx must not be empty');
    if (partial.rateLimitPerSecond !== undefined) {
      // A new limit starts with a full bucket; an unchanged one keeps its state.
      this.#bucket =
        next.rateLimitPerSecond > 0
          ? new TokenBucket(next.rateLimitPerSecond, () => performance.now())
          : undefined;
    }
    this.#settings = Object.freeze(next);
    this.#failPages = new Set(next.failPageAtOffsets);
    this.#only = next.onlyRoutes ? new Set(next.onlyRoutes) : undefined;
  }

  revokeAllTokens(): void {
    this.#revoke();
  }

  reset(): void {
    this.#settings = OFF;
    this.#failPages = new Set();
    this.#only = undefined;
    this.#bucket = undefined;
  }

  /** Whether faults hit this route (`route` as `METHOD /template`, `path` the template). */
  appliesTo(route: string, path: string, isTokenEndpoint: boolean): boolean {
    if (isTokenEndpoint && !this.#settings.faultTokenEndpoint) return false;
    return !this.#only || this.#only.has(route) || this.#only.has(path);
  }

  /** The latency to add to a request the faults apply to. */
  get latencyMs(): number {
    return this.#settings.latencyMs;
  }

  /**
   * Whether to refuse a request before serving it: the rate limit first (it is real, and a
   * refused call must not use up a token), then the random 429s and 5xx.
   */
  refuse(): FaultAnswer | undefined {
    if (this.#bucket) {
      const waitMs = this.#bucket.take();
      if (waitMs > 0)
        return { status: 429, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    const s = this.#settings;
    if (s.p429 > 0 && this.#random() < s.p429) {
      return { status: 429, retryAfterSeconds: s.retryAfterSeconds };
    }
    if (s.p5xx > 0 && this.#random() < s.p5xx) {
      const index = Math.floor(this.#random() * s.statuses5xx.length);
      return { status: s.statuses5xx[index] ?? 500 };
    }
    return undefined;
  }

  /** Whether the list page at this offset must fail. */
  failsPage(offset: number): boolean {
    return this.#failPages.has(offset);
  }

  /** Whether this (completed) delete answers 504. */
  deleteTimesOut(): boolean {
    const p = this.#settings.p504OnDelete;
    return p > 0 && this.#random() < p;
  }
}
