/**
 * The Agent Engine answers errors in three shapes (docs/agent-engine-api.md, "Base, auth, errors");
 * this turns any of them, or a body of none of them, into one readable line such as
 * `PUT /workspaces/{id} → 422: name: Workspace name already exists`.
 */
import { scrub } from '../lib/logger.js';

/** Longest slice of an unrecognised body quoted in a message. */
const MAX_RAW = 200;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

/** `{"message","errors":[{"field","message","error_code","details"}]}`, the spec's ApiErrorResponse. */
function apiErrorResponse(body: Json): string | undefined {
  const errors = Array.isArray(body.errors) ? body.errors.filter(isObject) : [];
  const parts = errors
    .map((e) => {
      const message = str(e.message) ?? str(e.error_code);
      const field = str(e.field);
      if (!message) return field;
      return field ? `${field}: ${message}` : message;
    })
    .filter((part): part is string => part !== undefined);
  if (parts.length > 0) return parts.join('; ');
  return str(body.message);
}

/** FastAPI's `{"detail": "..."}` or `{"detail": [{"loc","msg","type"}]}`. */
function fastApiDetail(body: Json): string | undefined {
  const detail = body.detail;
  if (typeof detail === 'string') return str(detail);
  if (!Array.isArray(detail)) return undefined;
  const parts = detail.filter(isObject).map((d) => {
    // `loc` starts with where the value was read ("body", "query", "path"): noise in a message.
    const loc = Array.isArray(d.loc)
      ? d.loc
          .filter((p, i) => !(i === 0 && ['body', 'query', 'path', 'header'].includes(String(p))))
          .join('.')
      : '';
    const msg = str(d.msg) ?? 'invalid';
    return loc ? `${loc}: ${msg}` : msg;
  });
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** `{"error": "...", "message": "..."}`. */
function errorAndMessage(body: Json): string | undefined {
  const error = str(body.error);
  const message = str(body.message);
  if (error && message) return error === message ? message : `${error}: ${message}`;
  return error ?? message;
}

/**
 * The reason in an error body, whatever its shape; the raw text (shortened) when it is not JSON or
 * not a known shape; undefined when the body is empty.
 */
export function errorReason(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(trimmed);
  } catch {
    body = undefined;
  }
  if (isObject(body)) {
    const reason =
      'detail' in body
        ? fastApiDetail(body)
        : 'errors' in body
          ? apiErrorResponse(body)
          : 'error' in body
            ? errorAndMessage(body)
            : str(body.message);
    if (reason) return reason;
  }
  return trimmed.length > MAX_RAW ? `${trimmed.slice(0, MAX_RAW)}…` : trimmed;
}

/**
 * The whole message of a failed call: `route → status: reason`, scrubbed of every secret the
 * caller knows (the client secret, tokens) and of anything shaped like a JWT, because an error
 * body may echo a request back and messages travel to logs, audit rows and the CLI.
 */
export function failureMessage(
  route: string,
  status: number,
  bodyText: string,
  secrets: readonly string[],
): string {
  const reason = errorReason(bodyText) ?? 'no details';
  return scrub(`${route} → ${status}: ${reason}`, secrets);
}
