/**
 * Agent Engine answer shapes (`docs/agent-engine-openapi.json`), checked by zod before anything is
 * read from them: a 200 of the wrong shape becomes a PermanentError naming the route, never a
 * TypeError three functions later. Ids are checked as non-empty strings, not as uuids: a stricter
 * check would turn a harmless change of id format into an outage.
 */
import { z } from 'zod';

import type { Workspace } from './types.js';

const id = z.string().min(1);

/** `POST /account/applications/token`. */
export const tokenAnswer = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().positive(),
  organization_id: z.string().min(1).nullish(),
});

/** The workspace object; all eight fields are required by the spec. */
export const workspaceAnswer = z.object({
  id,
  name: z.string(),
  organization_id: id,
  status: z.enum(['active', 'inactive']),
  cache_enabled: z.boolean().nullable(),
  tombstone: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});

/** `GET /workspaces`: the end is `next` null, empty or absent. */
export const workspacePageAnswer = z.object({
  data: z.array(workspaceAnswer),
  next: z.string().nullish(),
});

/** `DELETE /workspaces/{id}`; only checked to be an object, its fields are not used. */
export const deleteAnswer = z.object({ id: z.string().optional() });

/** `POST /account/applications/scoped-token`. */
export const scopedTokenAnswer = z.object({ token: z.string().min(1) });

/** `GET /account/applications/scoped-token/info`, read with the scoped token. */
export const scopedTokenInfoAnswer = z.object({
  organization_id: z.string().nullish(),
  workspace_id: id,
  workspace_name: z.string(),
});

/** The API's snake_case workspace as customer-sync's {@link Workspace}. */
export function toWorkspace(w: z.infer<typeof workspaceAnswer>): Workspace {
  return {
    id: w.id,
    name: w.name,
    organizationId: w.organization_id,
    status: w.status,
    cacheEnabled: w.cache_enabled,
    tombstone: w.tombstone,
    createdAt: w.created_at,
    updatedAt: w.updated_at,
  };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown) => typeof v === 'string' && v.length > 0;

/** The workspace object, checked by hand: exactly what {@link workspaceAnswer} accepts, or less. */
function isWorkspaceAnswer(w: unknown): boolean {
  return (
    isObject(w) &&
    isId(w.id) &&
    typeof w.name === 'string' &&
    isId(w.organization_id) &&
    (w.status === 'active' || w.status === 'inactive') &&
    (w.cache_enabled === null || typeof w.cache_enabled === 'boolean') &&
    typeof w.tombstone === 'boolean' &&
    typeof w.created_at === 'string' &&
    typeof w.updated_at === 'string'
  );
}

function isWorkspacePage(body: unknown): boolean {
  if (!isObject(body) || !Array.isArray(body.data)) return false;
  const { next } = body;
  if (!(next === undefined || next === null || typeof next === 'string')) return false;
  for (const w of body.data) if (!isWorkspaceAnswer(w)) return false;
  return true;
}

/**
 * Hand-written checks of the answers on the hot path (a sweep reads a page of 100 workspaces per
 * call): a few property reads each, where zod copies every object it checks. Each accepts only
 * what its schema accepts; whatever it refuses goes to zod, which decides and names the reason.
 * The value is then the body itself, unknown keys included (zod would strip them); readers take
 * only the fields they know (`toWorkspace`).
 */
const FAST = new Map<z.ZodType, (body: unknown) => boolean>([
  [workspacePageAnswer, isWorkspacePage],
  [workspaceAnswer, isWorkspaceAnswer],
]);

/**
 * Checks `body` against `schema`; on a mismatch returns a short readable reason (at most three
 * issues, each `path: message`) for the caller to put in a PermanentError.
 */
export function check<T>(
  schema: z.ZodType<T>,
  body: unknown,
): { ok: true; value: T } | { ok: false; reason: string } {
  if (FAST.get(schema)?.(body)) return { ok: true, value: body as T };
  const result = schema.safeParse(body);
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const more = result.error.issues.length > 3 ? ` (+${result.error.issues.length - 3} more)` : '';
  return { ok: false, reason: `unexpected answer: ${issues.join('; ')}${more}` };
}
