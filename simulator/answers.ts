/**
 * The simulator's answers, in docs/agent-engine-api.md's three error shapes: FastAPI's `{"detail"}`
 * (a string, or a list of `{loc, msg, type}` for validation), the spec's ApiErrorResponse
 * `{"message", "errors": [...]}`, and the token endpoint's `{"error", "message"}`.
 */

/** A complete answer: status, JSON body text, extra headers. */
export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One FastAPI validation problem. */
export interface Issue {
  readonly loc: readonly (string | number)[];
  readonly msg: string;
  readonly type: string;
}

/** 200 (or `status`) with `value` as JSON. */
export function ok(value: unknown, status = 200): Reply {
  return { status, body: JSON.stringify(value) };
}

/** FastAPI's `{"detail": "..."}`. */
export function detail(status: number, message: string): Reply {
  return { status, body: JSON.stringify({ detail: message }) };
}

/** FastAPI's request validation error: 422 `{"detail": [{loc, msg, type}]}`. */
export function invalid(issues: readonly Issue[]): Reply {
  return { status: 422, body: JSON.stringify({ detail: issues }) };
}

/** The spec's ApiErrorResponse. */
export function apiError(
  status: number,
  message: string,
  errors: readonly {
    field: string | null;
    message: string;
    error_code: string;
    details: Record<string, unknown> | null;
  }[] = [],
): Reply {
  return { status, body: JSON.stringify({ message, errors }) };
}

/** A 429 or 5xx imposed by a fault. */
export function faultReply(status: number, retryAfterSeconds?: number): Reply {
  const headers =
    retryAfterSeconds === undefined ? undefined : { 'retry-after': String(retryAfterSeconds) };
  if (status === 429) {
    return { status, body: JSON.stringify({ detail: 'Rate limit exceeded' }), headers };
  }
  return { ...apiError(status, STATUS_TEXT[status] ?? 'Server error'), headers };
}

const STATUS_TEXT: Record<number, string> = {
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

/** The 404 of an unknown or deleted workspace. */
export const WORKSPACE_NOT_FOUND = detail(404, 'Workspace not found');
