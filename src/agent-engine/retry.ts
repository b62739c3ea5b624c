/**
 * The in-call retry policy: how many attempts, how long to wait between them, and how a
 * `Retry-After` header is read. Which failures are worth another try is decided by
 * `src/lib/errors.ts`, not here; this file only decides *when*.
 */
import { RetryableError } from '../lib/errors.js';
import { MINUTE, SECOND } from '../lib/duration.js';

/** How one call retries. All durations in milliseconds. */
export interface RetryOptions {
  /** Total attempts of one call, the first included. */
  readonly attempts: number;
  /** The first backoff's upper bound; doubles each attempt. */
  readonly baseDelayMs: number;
  /** No backoff is longer than this. */
  readonly maxDelayMs: number;
  /**
   * A `Retry-After` up to this long is waited out in the call; a longer one is thrown as a
   * RetryableError carrying `retryAfterMs`, so the job layer can pause the whole queue instead
   * of one call holding a worker slot.
   */
  readonly maxRetryAfterMs: number;
}

/**
 * The retry budget. Each failure is retried at one level, never at two that multiply; the
 * client (`client.ts`) chooses the options per call:
 *
 * | call                                    | retried, and HTTP attempts at most                 |
 * | --------------------------------------- | -------------------------------------------------- |
 * | a sync's: get, put, delete, scoped-     | by the sync job alone: one attempt per job attempt |
 * | token mint (SYNC_CALL_RETRY)            | (`SYNC_ATTEMPTS`, its backoff): `SYNC_ATTEMPTS`    |
 * | the id read after a mint (MINTED_ID_    | in the call alone: 6 per mint, full jitter; the    |
 * | RETRY)                                  | job's retry would mint the name again              |
 * | a listing page, a sweep's or `plan`'s   | in the call alone: 4 per page and sweep, full      |
 * | (LISTING_RETRY)                         | jitter; the sweep job runs once                    |
 * | an application-token mint               | as the call it serves                              |
 *
 * Not retries, and not counted: a 401 answered by a fresh token and one repeat; a delete's 504
 * answered by one repeat (docs/agent-engine-api.md: the delete usually ends in the background; the
 * repeat's 404 says it is done). A 429 pauses every daemon's calls (the shared limiter) before it
 * is thrown or waited out, and a sync job it fails waits without spending an attempt (the job
 * wrapper): 429s are paced by the pause, not counted. Whether a failure is retryable at all is
 * `classify`'s decision (`src/lib/errors.ts`).
 */
export const LISTING_RETRY: RetryOptions = {
  attempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 10 * SECOND,
  maxRetryAfterMs: 5 * SECOND,
};

/**
 * A sync's calls: one attempt. The sync is level-triggered, so the job layer retries all of it
 * (re-reading the row and the workspace) with its own backoff. The backoff here only spaces a
 * delete's one repeat after a 504.
 */
export const SYNC_CALL_RETRY: RetryOptions = {
  attempts: 1,
  baseDelayMs: 200,
  maxDelayMs: 200,
  maxRetryAfterMs: 0,
};

/**
 * The id read after a mint (scoped-token info). The scoped token in hand is the one sure way to
 * the workspace the mint made or found: the job's retry would mint the name again, and if the
 * workspace was renamed, that mints a second (docs/agent-engine-api.md, rename trap), leaving the
 * first linked to nobody. So the read is retried here, for about 8 s at most between attempts.
 */
export const MINTED_ID_RETRY: RetryOptions = {
  attempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 4 * SECOND,
  maxRetryAfterMs: 5 * SECOND,
};

/** A `Retry-After` longer than this is read as this, unless `MAX_RETRY_AFTER` says otherwise. */
export const DEFAULT_RETRY_AFTER_CAP_MS = 5 * MINUTE;

/**
 * Full-jitter exponential backoff (AWS architecture blog, "Exponential Backoff And Jitter"): a
 * uniform delay in `[0, min(max, base · 2^(attempt-1))]`. Full jitter spreads the retries of many
 * daemons that failed together, which equal or decorrelated delays would keep in step.
 * `attempt` is the number of the attempt that just failed, from 1.
 */
export function backoffMs(
  attempt: number,
  options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}

/**
 * Reads `Retry-After` as whole seconds or an HTTP date, relative to `now`. Undefined when absent
 * or unreadable (the caller then falls back to backoff); never negative.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * SECOND;
  const date = Date.parse(text);
  // A bare number that is not whole seconds ("1.5", "-3") is not a valid header; ignore it.
  if (Number.isNaN(date) || /^[-\d.]+$/.test(text)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The `Retry-After` of an answer, read by {@link parseRetryAfter} and capped at `capMs`
 * (`MAX_RETRY_AFTER`): a server asking for an hour, or a year, must not stop every daemon that
 * long. Undefined when absent or unreadable.
 */
export function retryAfterOf(
  value: string | undefined,
  now: number,
  capMs: number,
): number | undefined {
  const asked = parseRetryAfter(value, now);
  return asked === undefined ? undefined : Math.min(asked, capMs);
}

/** The failure an aborted call throws: retryable, because an abort means "not now" (shutdown). */
export function abortedError(signal: AbortSignal): RetryableError {
  const reason: unknown = signal.reason;
  const why = reason instanceof Error ? reason.message : 'aborted';
  return new RetryableError(`agent engine call aborted: ${why}`, { cause: reason });
}

/**
 * Waits `ms`, at least: a timer can fire a millisecond early by `Date.now()`, and a server's
 * `Retry-After` must never be undercut, so the wait tops itself up. Rejects at once with
 * {@link abortedError} when `signal` aborts.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortedError(signal));
  if (ms <= 0) return Promise.resolve();
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout;
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal as AbortSignal));
    };
    const tick = () => {
      const left = until - Date.now();
      if (left > 0) {
        timer = setTimeout(tick, left);
        return;
      }
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    timer = setTimeout(tick, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
