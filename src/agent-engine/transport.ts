/**
 * One HTTP attempt, and nothing more: send, apply the per-request timeout, read the whole body,
 * report the attempt to the observer and as one debug log line. Retries, tokens and rate limits
 * live in `call.ts`; this file never decides whether to try again.
 */
import { EventEmitter } from 'node:events';

import type { Logger } from 'pino';
import { type Dispatcher, request } from 'undici';

import {
  classify,
  PermanentError,
  RetryableError,
  type SyncFailure,
  toError,
} from '../lib/errors.js';
import { scrub } from '../lib/logger.js';
import { agentEngineCall } from '../tracing/spans.js';
import { abortedError } from './retry.js';
import type { CallObserver } from './types.js';

/** What one attempt sends. `url` is absolute (a followed `next` is used verbatim). */
export interface AttemptRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  /** The route template for metrics and logs, e.g. `GET /workspaces/{id}`; never a real id. */
  readonly route: string;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /** Values to scrub from a network error's message on top of the transport's own. */
  readonly secrets?: readonly string[];
}

/** Any HTTP answer, whatever its status. */
export interface AttemptAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export interface TransportOptions {
  readonly dispatcher: Dispatcher;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  readonly observer?: CallObserver;
  /** Every secret known right now (client secret, live tokens), for scrubbing messages. */
  readonly secrets: () => readonly string[];
}

/** One attempt; resolves with any HTTP answer, rejects with a SyncFailure when none came. */
export type Transport = (req: AttemptRequest) => Promise<AttemptAnswer>;

export function createTransport(options: TransportOptions): Transport {
  const { dispatcher, requestTimeoutMs, logger, observer } = options;

  const report = (req: AttemptRequest, status: number | 'error', startedAt: number) => {
    const durationMs = performance.now() - startedAt;
    observer?.onCall?.({ route: req.route, method: req.method, status, durationMs });
    // One line per attempt: method, route, status, time. Never headers or bodies (tokens).
    logger.debug(
      { method: req.method, route: req.route, status, ms: Math.round(durationMs) },
      'agent engine call',
    );
  };

  return async (req) => {
    const { signal: callerSignal } = req;
    if (callerSignal?.aborted) throw abortedError(callerSignal);
    // One abort per attempt, its timer cleared and it unfollowed when the attempt ends:
    // `AbortSignal.timeout` would leave a timer alive for the whole timeout after every request
    // (a sweep at a thousand pages a second kept 30,000 of them, promoted to the old generation),
    // and `AbortSignal.any` ties a composite to the sweep's long-lived signal.
    const controller = new AttemptAbort();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, requestTimeoutMs);
    timer.unref();
    const unfollow = callerSignal ? follow(callerSignal, controller) : undefined;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'customer-sync',
      ...req.headers,
    };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const startedAt = performance.now();
    try {
      // One client span per attempt (a no-op while tracing is off).
      return await agentEngineCall(req.method, req.route, req.url, headers, async () => {
        const res = await request(req.url, {
          dispatcher,
          method: req.method,
          headers,
          body: req.body === undefined ? null : JSON.stringify(req.body),
          signal: controller,
        });
        // The whole body is read even when not wanted, so the connection goes back to the pool.
        const text = await res.body.text();
        report(req, res.statusCode, startedAt);
        return { status: res.statusCode, headers: res.headers, text };
      });
    } catch (error) {
      report(req, 'error', startedAt);
      throw networkFailure(req, error, timedOut, requestTimeoutMs, [
        ...options.secrets(),
        ...(req.secrets ?? []),
      ]);
    } finally {
      clearTimeout(timer);
      unfollow?.();
    }
  };
}

/**
 * What aborts one attempt: undici takes an EventEmitter with `aborted` and `reason` in place of an
 * AbortSignal, and one costs a fraction of an AbortController (an EventTarget), which a listing
 * made a page at a time (profiled over 1,000 pages: 55 ms of the client's 610 ms of CPU).
 */
class AttemptAbort extends EventEmitter {
  aborted = false;
  reason: unknown;

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    // undici rejects with the reason, or with its own RequestAbortedError when there is none.
    this.reason = reason;
    this.emit('abort');
  }
}

/** The attempts in flight under each caller's signal, aborted together by its one listener. */
const following = new WeakMap<AbortSignal, Set<AttemptAbort>>();

/**
 * Aborts `attempt` when `signal` aborts, until the returned function is called. One listener per
 * signal, not per attempt: a sweep's signal lives for its whole listing, and an EventTarget
 * listener added and removed per page cost more than the page's own abort.
 */
function follow(signal: AbortSignal, attempt: AttemptAbort): () => void {
  let attempts = following.get(signal);
  if (!attempts) {
    const inFlight = new Set<AttemptAbort>();
    signal.addEventListener(
      'abort',
      () => {
        for (const a of inFlight) a.abort(signal.reason);
      },
      { once: true },
    );
    following.set(signal, inFlight);
    attempts = inFlight;
  }
  const set = attempts;
  set.add(attempt);
  return () => set.delete(attempt);
}

/** Why an attempt got no answer, as a SyncFailure whose message names the route. */
function networkFailure(
  req: AttemptRequest,
  error: unknown,
  timedOut: boolean,
  timeoutMs: number,
  secrets: readonly string[],
): SyncFailure {
  // The caller's abort wins over everything: it must not be mistaken for a retryable timeout.
  if (req.signal?.aborted) return abortedError(req.signal);
  if (timedOut) {
    return new RetryableError(`${req.route} → timed out after ${timeoutMs} ms`, { cause: error });
  }
  const err = toError(error);
  const failure = classify(err);
  const code = (err as { code?: unknown }).code;
  const what = typeof code === 'string' ? `${code} ${err.message}` : err.message;
  const message = scrub(`${req.route} → network error: ${what}`, secrets);
  // Keep the classification, replace the message: the raw one names neither route nor method.
  return failure.kind === 'retryable'
    ? new RetryableError(message, { cause: err })
    : new PermanentError(message, { cause: err });
}
