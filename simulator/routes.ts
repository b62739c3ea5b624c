/**
 * The route table: each route's method, path template (the key stats and `onlyRoutes` use), the
 * token it needs, and its handler. Matching is two map lookups, no regex, for the hot path.
 */
import type { Reply } from './answers.js';
import type { RequestContext } from './context.js';
import { listWorkspaces } from './handlers/list.js';
import { applicationToken, scopedToken, scopedTokenInfo } from './handlers/tokens.js';
import {
  deleteWorkspace,
  getWorkspace,
  updateWorkspace,
  workspaceStats,
} from './handlers/workspaces.js';

/** Which token a route demands. */
export type AuthNeed = 'none' | 'application' | 'scoped';

/** One route of the API. */
export interface Route {
  readonly method: string;
  /** The path with `{id}` for a workspace id. */
  readonly template: string;
  /** `METHOD template`, as stats count it. */
  readonly key: string;
  readonly auth: AuthNeed;
  /** Whether the route reads a JSON body. */
  readonly hasBody: boolean;
  /** A PUT or DELETE of one workspace: watched for overlapping mutations. */
  readonly mutatesWorkspace: boolean;
  readonly handle: (ctx: RequestContext) => Reply;
}

/** The path template of the token endpoint, which faults spare unless told otherwise. */
export const TOKEN_PATH = '/api/v1/account/applications/token';
const WORKSPACES = '/api/v1/workspaces';
const WORKSPACE = `${WORKSPACES}/{id}`;

function route(
  method: string,
  template: string,
  auth: AuthNeed,
  handle: (ctx: RequestContext) => Reply,
): Route {
  const hasBody = method === 'POST' || method === 'PUT';
  const mutatesWorkspace = template === WORKSPACE && (method === 'PUT' || method === 'DELETE');
  return {
    method,
    template,
    key: `${method} ${template}`,
    auth,
    hasBody,
    mutatesWorkspace,
    handle,
  };
}

const ROUTES: readonly Route[] = [
  route('POST', TOKEN_PATH, 'none', applicationToken),
  // Both families: clients use /account/applications, the docs (and older clients) /embedded.
  route('POST', '/api/v1/account/applications/scoped-token', 'application', scopedToken),
  route('POST', '/api/v1/embedded/scoped-token', 'application', scopedToken),
  route('GET', '/api/v1/account/applications/scoped-token/info', 'scoped', scopedTokenInfo),
  route('GET', '/api/v1/embedded/scoped-token/info', 'scoped', scopedTokenInfo),
  route('GET', WORKSPACES, 'application', listWorkspaces),
  route('GET', `${WORKSPACES}/stats`, 'application', workspaceStats),
  route('GET', WORKSPACE, 'application', getWorkspace),
  route('PUT', WORKSPACE, 'application', updateWorkspace),
  route('DELETE', WORKSPACE, 'application', deleteWorkspace),
];

/** path template → method → route. */
const BY_PATH = new Map<string, Map<string, Route>>();
for (const r of ROUTES) {
  let methods = BY_PATH.get(r.template);
  if (!methods) BY_PATH.set(r.template, (methods = new Map()));
  methods.set(r.method, r);
}

/** A matched route and its `{id}`, or the status for a path or method that is not served. */
export type RouteMatch =
  | { readonly route: Route; readonly id: string | undefined }
  | { readonly route: undefined; readonly status: 404 | 405 };

/** Finds the route of a request; the `{id}` segment is returned raw (checked by the caller). */
export function matchRoute(method: string, path: string): RouteMatch {
  let methods = BY_PATH.get(path);
  let id: string | undefined;
  if (!methods && path.startsWith(`${WORKSPACES}/`)) {
    const rest = path.slice(WORKSPACES.length + 1);
    if (rest !== '' && !rest.includes('/')) {
      methods = BY_PATH.get(WORKSPACE);
      id = decodeSegment(rest);
    }
  }
  if (!methods || id === '') return { route: undefined, status: 404 };
  const found = methods.get(method);
  return found ? { route: found, id } : { route: undefined, status: 405 };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return ''; // malformed escapes: no such resource
  }
}
