/**
 * Failure types decide retries, here and nowhere else.
 *
 * - {@link RetryableError}: try again later (network, timeouts, 408, 429, 5xx); `retryAfterMs`
 *   when the other side said how long to wait.
 * - {@link PermanentError}: retrying cannot help (other 4xx, a name conflict, bad input).
 * - {@link AuthError}: the credentials were refused even after a fresh token; feeds the breaker.
 * - {@link SupersededError}: a newer sync of the same subject has started; this one's decision is
 *   stale and it stops before its next change. Not a failure of the subject: nothing to retry.
 *
 * `classify(unknown)` maps anything thrown (HTTP statuses, undici and socket errors, Postgres
 * SQLSTATEs) onto one of them. The job wrapper alone turns them into BullMQ's behaviour.
 */
export type FailureKind = 'retryable' | 'permanent' | 'auth' | 'superseded';

export abstract class SyncFailure extends Error {
  abstract readonly kind: FailureKind;
  /** The HTTP status when the failure came from an HTTP answer. */
  readonly status: number | undefined;
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = options.status;
  }
}

export class RetryableError extends SyncFailure {
  readonly kind = 'retryable' as const;
  override readonly name = 'RetryableError';
  /** How long the other side asked us to wait (429/503 `Retry-After`), if it said. */
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    options: { status?: number; cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

export class PermanentError extends SyncFailure {
  readonly kind = 'permanent' as const;
  override readonly name = 'PermanentError';
}

export class AuthError extends SyncFailure {
  readonly kind = 'auth' as const;
  override readonly name = 'AuthError';
}

export class SupersededError extends SyncFailure {
  readonly kind = 'superseded' as const;
  override readonly name = 'SupersededError';
  /** The change's API call had already been made when the newer sync was noticed. */
  readonly afterCall: boolean;
  constructor(message: string, options: { afterCall?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.afterCall = options.afterCall ?? false;
  }
}

/** HTTP statuses worth another try. */
const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Node and undici error codes that mean the network, not the request, failed. */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_ABORTED',
]);

/**
 * Postgres SQLSTATE classes that are transient: connection exceptions (08), serialization and
 * deadlock (40), insufficient resources (53), operator intervention such as a restart (57).
 */
const RETRYABLE_SQLSTATE_CLASSES = new Set(['08', '40', '53', '57']);

export function failureForStatus(
  status: number,
  message: string,
  retryAfterMs?: number,
): SyncFailure {
  if (status === 401 || status === 403) return new AuthError(message, { status });
  if (RETRYABLE_STATUSES.has(status)) return new RetryableError(message, { status, retryAfterMs });
  return new PermanentError(message, { status });
}

/** Normalises anything thrown into a {@link SyncFailure}. Unknown errors are retryable. */
export function classify(error: unknown): SyncFailure {
  if (error instanceof SyncFailure) return error;
  const err = toError(error);
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (RETRYABLE_CODES.has(code)) return new RetryableError(err.message, { cause: err });
    if (/^[0-9A-Z]{5}$/.test(code)) {
      return RETRYABLE_SQLSTATE_CLASSES.has(code.slice(0, 2))
        ? new RetryableError(`database: ${err.message}`, { cause: err })
        : new PermanentError(`database: ${err.message}`, { cause: err });
    }
  }
  if (err.name === 'AbortError' || err.name === 'TimeoutError') {
    return new RetryableError(err.message, { cause: err });
  }
  return new RetryableError(err.message, { cause: err });
}

/** Every `catch` starts here: whatever was thrown, an Error comes out. */
export function toError(error: unknown): Error {
  if (error instanceof Error) return error;
  return new Error(typeof error === 'string' ? error : JSON.stringify(error));
}
