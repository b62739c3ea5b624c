/**
 * One Agent Engine call with its retries: wait for the rate limiter, get a token, make an attempt,
 * and decide from the failure type (`src/lib/errors.ts`) whether and when to try again, within
 * the request's {@link RetryOptions} (the budget is in `retry.ts`). Two repeats are part of a call
 * and spend no attempt: after a 401, once with a fresh token; after a delete's 504, once.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';

import type { Clock } from '../lib/clock.js';
import {
  classify,
  failureForStatus,
  PermanentError,
  RetryableError,
  type SyncFailure,
} from '../lib/errors.js';
import { failureMessage } from './error-body.js';
import type { RateLimiter } from './rate-limiter.js';
import { abortedError, backoffMs, retryAfterOf, type RetryOptions, sleep } from './retry.js';
import { check } from './schemas.js';
import { header, safeJson, type TokenSource } from './tokens.js';
import type { AttemptAnswer, AttemptRequest, Transport } from './transport.js';

export interface CallerOptions {
  readonly transport: Transport;
  readonly logger: Logger;
  readonly tokens: TokenSource;
  readonly clock: Clock;
  /** A 429's `Retry-After` longer than this is read as this (`MAX_RETRY_AFTER`). */
  readonly retryAfterCapMs: number;
  readonly rateLimiter?: RateLimiter;
  /** Sent as `X-Organization-Id` when set; else the token response's organization is sent. */
  readonly organizationId?: string;
  readonly clientSecret: string;
  /** Jitter source; tests may pin it. */
  readonly random?: () => number;
}

export interface CallRequest<T> {
  readonly method: AttemptRequest['method'];
  readonly url: string;
  readonly route: string;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /** The shape a 2xx answer must have. */
  readonly schema: z.ZodType<T>;
  /** Non-2xx statuses that are an answer, not a failure (404 on get and delete). */
  readonly accept?: readonly number[];
  /** How this call retries: the client's choice, from the budget in `retry.ts`. */
  readonly retry: RetryOptions;
  /** Run right before each attempt is sent; what it throws ends the call (see MutationOptions). */
  readonly guard?: () => Promise<void>;
  /** A 504 gets one repeat that spends no attempt (a delete, see docs/agent-engine-api.md). */
  readonly repeatOn504?: boolean;
  /**
   * A scoped token to send instead of the application token. A 401 then cannot be cured by a
   * refresh and is thrown as AuthError. Used for this call only, and scrubbed from messages.
   */
  readonly bearer?: string;
}

/** A 2xx answer, checked; or an accepted status with no value. */
export type CallResult<T> = { status: number; value: T } | { status: number; value?: undefined };

/** Makes calls; one per client. */
export type Caller = <T>(req: CallRequest<T>) => Promise<CallResult<T>>;

export function createCaller(options: CallerOptions): Caller {
  const { transport, tokens, clock, rateLimiter } = options;
  const random = options.random ?? Math.random;

  return async <T>(req: CallRequest<T>): Promise<CallResult<T>> => {
    const { signal, retry } = req;
    let refreshedOn401 = false;
    let repeated504 = false;
    for (let attempt = 1; ; attempt += 1) {
      let failure: SyncFailure;
      try {
        const answer = await once(req);
        if (answer.status === 401 && !req.bearer && !refreshedOn401) {
          // Expired or revoked early: refresh once and retry without spending an attempt.
          refreshedOn401 = true;
          tokens.invalidate(answer.usedToken);
          attempt -= 1;
          continue;
        }
        const result = interpret(req, answer);
        if (!('failure' in result)) return result;
        failure = result.failure;
      } catch (error) {
        if (signal?.aborted) throw abortedError(signal);
        failure = classify(error);
      }
      // Whichever request met it (an application-token mint's too), a 429 pauses every daemon
      // before this call retries or throws.
      if (failure.status === 429) await pauseEveryone(failure);
      if (failure.kind !== 'retryable') throw failure;
      const retryAfterMs = failure instanceof RetryableError ? failure.retryAfterMs : undefined;
      // A long Retry-After is the whole queue's business (the job layer pauses it), not one call's.
      if (retryAfterMs !== undefined && retryAfterMs > retry.maxRetryAfterMs) throw failure;
      // docs/agent-engine-api.md: a delete answered 504 usually goes on in the background, and a
      // repeat's 404 says it is done. That one repeat is part of the delete: it spends no attempt.
      const repeat = req.repeatOn504 === true && failure.status === 504 && !repeated504;
      if (!repeat && attempt >= retry.attempts) throw failure;
      // Retry-After is waited out exactly, never undercut; otherwise full-jitter backoff.
      const waitMs = retryAfterMs ?? backoffMs(attempt, retry, random);
      // The message is already scrubbed (failureMessage); it names route and status only.
      options.logger.debug(
        { route: req.route, attempt, waitMs, reason: failure.message },
        repeat ? 'repeating a delete answered 504' : 'retrying',
      );
      await sleep(waitMs, signal);
      if (repeat) {
        repeated504 = true;
        attempt -= 1;
      }
    }
  };

  /**
   * A 429 is about the organization's budget, not this call: every caller sharing the limiter
   * (every daemon, through Redis) waits out its Retry-After. A limiter that cannot record the
   * pause (Redis down) must not turn the 429 into another failure: this call still waits.
   */
  async function pauseEveryone(failure: SyncFailure): Promise<void> {
    const ms = failure instanceof RetryableError ? failure.retryAfterMs : undefined;
    if (ms === undefined || ms <= 0 || !rateLimiter) return;
    await rateLimiter.pause(ms).catch((error: unknown) => {
      options.logger.warn({ err: classify(error).message }, 'could not share the rate-limit pause');
    });
  }

  /**
   * Token, rate limit, one attempt. The token comes first: a call that waited out a mint after
   * its slot came would go late, and those late calls would then go together, more than the limit
   * in one window. A mint, when one is needed, takes its own slot.
   */
  async function once(req: CallRequest<unknown>): Promise<AttemptAnswer & { usedToken: string }> {
    let app = req.bearer ? undefined : await tokens.get(req.signal);
    await rateLimiter?.acquire(req.signal);
    // The slot can come after the token went stale (a long wait, a shared 429 pause): a call must
    // never leave with an expired token when a fresh one can be had.
    if (app && !tokens.isFresh(app)) app = await tokens.get(req.signal);
    const usedToken = req.bearer ?? (app?.token as string);
    const headers: Record<string, string> = { authorization: `Bearer ${usedToken}` };
    const organizationId = options.organizationId ?? app?.organizationId ?? tokens.organizationId;
    if (organizationId) headers['x-organization-id'] = organizationId;
    // Last, so nothing is awaited between the guard's answer and the request leaving.
    await req.guard?.();
    const answer = await transport({
      method: req.method,
      url: req.url,
      route: req.route,
      headers,
      body: req.body,
      ...(req.signal ? { signal: req.signal } : {}),
      secrets: [usedToken],
    });
    return { ...answer, usedToken };
  }

  /** An answer as a result, or as the failure it stands for. */
  function interpret<T>(
    req: CallRequest<T>,
    answer: AttemptAnswer & { usedToken: string },
  ): CallResult<T> | { failure: SyncFailure } {
    const secrets = [options.clientSecret, answer.usedToken, ...tokens.secrets()];
    if (answer.status >= 200 && answer.status < 300) {
      const body = safeJson(answer.text);
      if (body === undefined) {
        // Empty, cut short or an HTML page: the body, not the request, went wrong (a proxy, a
        // dropped connection), so another try may well succeed. Never quoted: it may echo a token.
        const message = `${req.route} → ${answer.status}: unreadable answer (not JSON, ${answer.text.length} bytes)`;
        return { failure: new RetryableError(message, { status: answer.status }) };
      }
      const parsed = check(req.schema, body);
      if (parsed.ok) return { status: answer.status, value: parsed.value };
      // A wrong shape will not fix itself on retry; the reason names paths, never values.
      const message = `${req.route} → ${answer.status}: ${parsed.reason}`;
      return { failure: new PermanentError(message, { status: answer.status }) };
    }
    if (req.accept?.includes(answer.status)) return { status: answer.status };
    const message = failureMessage(req.route, answer.status, answer.text, secrets);
    const retryAfter = retryAfterOf(
      header(answer.headers['retry-after']),
      clock.now(),
      options.retryAfterCapMs,
    );
    return { failure: failureForStatus(answer.status, message, retryAfter) };
  }
}
