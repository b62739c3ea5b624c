/**
 * Request checks in FastAPI's manner: each failed check becomes an {@link Issue} with the `loc`,
 * `msg` and `type` pydantic would give, and the route answers 422 with all of them.
 */
import type { Issue } from './answers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `text` is a uuid in its usual 8-4-4-4-12 form (either case). */
export function isUuid(text: string): boolean {
  return text.length === 36 && UUID.test(text);
}

/** The issue of a path or header value that is not a uuid. */
export function uuidIssue(loc: readonly string[], input: string): Issue {
  return {
    loc,
    msg: `Input should be a valid UUID, invalid character: ${JSON.stringify(input.slice(0, 40))}`,
    type: 'uuid_parsing',
  };
}

/** The issue of a body that is not JSON. */
export function jsonIssue(): Issue {
  return { loc: ['body', 0], msg: 'JSON decode error', type: 'json_invalid' };
}

/** The body as an object, or undefined (then answer {@link NOT_AN_OBJECT}). */
export function bodyObject(body: unknown): Record<string, unknown> | undefined {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : undefined;
}

/** The issue of a body that is JSON but not an object. */
export const NOT_AN_OBJECT: Issue = {
  loc: ['body'],
  msg: 'Input should be a valid dictionary or object to extract fields from',
  type: 'model_attributes_type',
};

/** A required string field, or an issue. */
export function requiredString(
  body: Record<string, unknown>,
  field: string,
  issues: Issue[],
): string | undefined {
  const value = body[field];
  if (value === undefined) {
    issues.push({ loc: ['body', field], msg: 'Field required', type: 'missing' });
    return undefined;
  }
  if (typeof value !== 'string') {
    issues.push({
      loc: ['body', field],
      msg: 'Input should be a valid string',
      type: 'string_type',
    });
    return undefined;
  }
  return value;
}
