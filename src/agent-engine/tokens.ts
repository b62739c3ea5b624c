/**
 * The application token: minted from the client credentials, cached, refreshed `refreshSkewMs`
 * before it runs out (by the injected clock), with exactly one mint in flight per process however
 * many calls wait for it. A call that meets a 401 invalidates the token it used and asks again.
 * A mint never retries on its own: it is part of the call that needed it, and a failed mint fails
 * that attempt of the call (so it is retried, or not, as that call is: see `retry.ts`).
 */
import type { Clock } from '../lib/clock.js';
import { failureForStatus, PermanentError } from '../lib/errors.js';
import { SECOND } from '../lib/duration.js';
import { failureMessage } from './error-body.js';
import { abortedError, retryAfterOf } from './retry.js';
import type { RateLimiter } from './rate-limiter.js';
import { check, tokenAnswer } from './schemas.js';
import type { Transport } from './transport.js';
import type { CallObserver } from './types.js';

export const TOKEN_ROUTE = 'POST /account/applications/token';

/** A live application token. Held in memory only; never logged, never put in a message. */
export interface AppToken {
  readonly token: string;
  /** From the token response; sent as `X-Organization-Id` when config did not set one. */
  readonly organizationId: string | undefined;
}

export interface TokenSourceOptions {
  /** `…/api/v1`, without a trailing slash. */
  readonly apiBase: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clock: Clock;
  readonly refreshSkewMs: number;
  readonly transport: Transport;
  readonly observer?: CallObserver;
  /** A mint is an API call too, so it takes a slot of the shared limit like any other. */
  readonly rateLimiter?: RateLimiter;
  /** A refused mint's `Retry-After` longer than this is read as this (`MAX_RETRY_AFTER`). */
  readonly retryAfterCapMs: number;
}

interface Cached extends AppToken {
  /** Clock time after which the token is refreshed before use. */
  readonly refreshAt: number;
}

/** Hands out a valid application token; see the file comment for the rules. */
export class TokenSource {
  readonly #options: TokenSourceOptions;
  #current: Cached | undefined;
  /** The previous token, kept only so a late error quoting it can still be scrubbed. */
  #previous: string | undefined;
  /** The one mint in flight; every caller that finds the token stale awaits this same promise. */
  #inflight: Promise<Cached> | undefined;

  constructor(options: TokenSourceOptions) {
    this.#options = options;
  }

  /** A token valid for at least `refreshSkewMs` more, minting one if needed. */
  async get(signal?: AbortSignal): Promise<AppToken> {
    const current = this.#current;
    if (current && this.#options.clock.now() < current.refreshAt) return current;
    if (!this.#inflight) {
      this.#inflight = this.#mint().finally(() => {
        this.#inflight = undefined;
      });
      // Every waiter handles the outcome; this only keeps a mint whose waiters all gave up from
      // surfacing as an unhandled rejection.
      this.#inflight.catch(() => undefined);
    }
    // The mint is shared, so one caller's abort must not cancel it for the others: each caller
    // stops waiting on its own signal while the mint runs on.
    return abortable(this.#inflight, signal);
  }

  /** Whether `token` is still the cached one and not yet due for refresh. */
  isFresh(token: AppToken): boolean {
    const current = this.#current;
    return current?.token === token.token && this.#options.clock.now() < current.refreshAt;
  }

  /**
   * Forgets `token` after the API refused it (401), so the next `get` mints. A token that was
   * already replaced is ignored: fifty calls refused at once cause one mint, not fifty.
   */
  invalidate(token: string): void {
    if (this.#current?.token !== token) return;
    this.#previous = token;
    this.#current = undefined;
  }

  /** The organization learned from the last token response, if any. */
  get organizationId(): string | undefined {
    return this.#current?.organizationId;
  }

  /** Tokens to scrub from messages: the live one and the one before it. */
  secrets(): string[] {
    return [this.#current?.token, this.#previous].filter((t): t is string => t !== undefined);
  }

  async #mint(): Promise<Cached> {
    const { apiBase, clientId, clientSecret, clock, transport } = this.#options;
    await this.#options.rateLimiter?.acquire();
    // Lifetime counts from when the request left, not when the answer came: never optimistic.
    const sentAt = clock.now();
    const answer = await transport({
      method: 'POST',
      url: `${apiBase}/account/applications/token`,
      route: TOKEN_ROUTE,
      headers: {},
      body: { client_id: clientId, client_secret: clientSecret },
    });
    if (answer.status !== 200) {
      const message = failureMessage(TOKEN_ROUTE, answer.status, answer.text, [clientSecret]);
      const retryAfter = header(answer.headers['retry-after']);
      const retryAfterMs = retryAfterOf(retryAfter, clock.now(), this.#options.retryAfterCapMs);
      // 401 and 403 become AuthError here: the credentials themselves were refused.
      throw failureForStatus(answer.status, message, retryAfterMs);
    }
    const parsed = check(tokenAnswer, safeJson(answer.text));
    if (!parsed.ok) {
      // The reason names fields, never values, so the token cannot leak through it.
      throw new PermanentError(`${TOKEN_ROUTE} → 200: ${parsed.reason}`, { status: 200 });
    }
    const lifetimeMs = parsed.value.expires_in * SECOND;
    const { refreshSkewMs } = this.#options;
    // A skew as long as the lifetime would mint before every call; refresh at half-life instead.
    const usableMs = lifetimeMs > refreshSkewMs ? lifetimeMs - refreshSkewMs : lifetimeMs / 2;
    if (this.#current) this.#previous = this.#current.token;
    const cached: Cached = {
      token: parsed.value.access_token,
      organizationId: parsed.value.organization_id ?? undefined,
      refreshAt: sentAt + usableMs,
    };
    this.#current = cached;
    this.#options.observer?.onTokenMint?.();
    return cached;
  }
}

/** The first value of a header that may repeat. */
export function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** JSON.parse that answers undefined instead of throwing; the schema check then says why. */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `promise`, or a rejection with {@link abortedError} as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortedError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
