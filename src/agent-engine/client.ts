/**
 * The Agent Engine client (`docs/agent-engine-api.md`) over undici. Build it with
 * {@link createAgentEngine}; every method throws only `SyncFailure`s (`src/lib/errors.ts`).
 *
 * Layers, innermost first: `transport.ts` (one HTTP attempt, timeout, observer, debug line) →
 * `tokens.ts` (the application token) → `call.ts` (rate limit, retries, 401 refresh) → here (the
 * routes, paging, get-or-create, and each call's retries: {@link SYNC_CALL_RETRY} for everything
 * a sync calls but the id read after a mint ({@link MINTED_ID_RETRY}), {@link LISTING_RETRY} for
 * listing pages; the budget is in `retry.ts`).
 */
import type { Logger } from 'pino';
import { Agent, type Dispatcher } from 'undici';
import type { z } from 'zod';

import { type Clock, systemClock } from '../lib/clock.js';
import { MINUTE, SECOND } from '../lib/duration.js';
import { AuthError, PermanentError } from '../lib/errors.js';
import { type Caller, type CallResult, createCaller } from './call.js';
import type { RateLimiter } from './rate-limiter.js';
import {
  DEFAULT_RETRY_AFTER_CAP_MS,
  LISTING_RETRY,
  MINTED_ID_RETRY,
  type RetryOptions,
  SYNC_CALL_RETRY,
} from './retry.js';
import {
  deleteAnswer,
  scopedTokenAnswer,
  scopedTokenInfoAnswer,
  toWorkspace,
  workspaceAnswer,
  workspacePageAnswer,
} from './schemas.js';
import { TokenSource } from './tokens.js';
import { createTransport } from './transport.js';
import type {
  AgentEngine,
  CallObserver,
  ListOptions,
  MutationOptions,
  Workspace,
} from './types.js';

export interface AgentEngineOptions {
  /** Base URL without `/api/v1`, e.g. `https://api.airbyte.ai`. */
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Sent as `X-Organization-Id`; when absent, the token response's organization is sent. */
  readonly organizationId?: string;
  /** Where requests go (the simulator, a MockAgent); default a keep-alive pool of 16 connections. */
  readonly dispatcher?: Dispatcher;
  /** Reads token expiry; default the system clock. */
  readonly clock?: Clock;
  /** Refresh the application token this long before it expires; default 60 s. */
  readonly refreshSkewMs?: number;
  /** Timeout of one attempt, body included; default 30 s. */
  readonly requestTimeoutMs?: number;
  readonly logger: Logger;
  readonly observer?: CallObserver;
  /** Awaited before every API call (not before application-token mints). */
  readonly rateLimiter?: RateLimiter;
  /** A 429's `Retry-After` longer than this is read as this (`MAX_RETRY_AFTER`); default 5 min. */
  readonly retryAfterCapMs?: number;
  /** Listing pages' in-call retries, field by field over {@link LISTING_RETRY} (tests). */
  readonly listingRetry?: Partial<RetryOptions>;
  /** Jitter source for backoff; tests may pin it. Default Math.random. */
  readonly random?: () => number;
}

/** The client: the {@link AgentEngine} port plus `close()`, which releases its own pool. */
export interface AgentEngineClient extends AgentEngine {
  /** Closes the connection pool if the client created it; an injected dispatcher is left open. */
  close(): Promise<void>;
}

const PAGE_SIZE = 100;
type WorkspacePage = z.infer<typeof workspacePageAnswer>;
const ROUTES = {
  list: 'GET /workspaces',
  get: 'GET /workspaces/{id}',
  update: 'PUT /workspaces/{id}',
  delete: 'DELETE /workspaces/{id}',
  scopedToken: 'POST /account/applications/scoped-token',
  scopedTokenInfo: 'GET /account/applications/scoped-token/info',
} as const;

/** Builds the client. Nothing is sent until the first call. */
export function createAgentEngine(options: AgentEngineOptions): AgentEngineClient {
  const base = new URL(options.baseUrl.replace(/\/+$/, ''));
  const apiBase = `${base.origin}${base.pathname.replace(/\/+$/, '')}/api/v1`;
  const ownDispatcher = options.dispatcher
    ? undefined
    : new Agent({ connections: 16, keepAliveTimeout: 30 * SECOND, keepAliveMaxTimeout: MINUTE });
  const dispatcher = options.dispatcher ?? (ownDispatcher as Dispatcher);
  const clock = options.clock ?? systemClock;
  const retryAfterCapMs = options.retryAfterCapMs ?? DEFAULT_RETRY_AFTER_CAP_MS;
  // Only the fields given: an explicit `undefined` keeps the default instead of erasing it.
  const listingRetry = { ...LISTING_RETRY, ...definedOnly(options.listingRetry ?? {}) };

  const transport = createTransport({
    dispatcher,
    requestTimeoutMs: options.requestTimeoutMs ?? 30 * SECOND,
    logger: options.logger,
    ...(options.observer ? { observer: options.observer } : {}),
    secrets: () => [options.clientSecret, ...tokens.secrets()],
  });
  const tokens = new TokenSource({
    apiBase,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    clock,
    refreshSkewMs: options.refreshSkewMs ?? MINUTE,
    transport,
    ...(options.observer ? { observer: options.observer } : {}),
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    retryAfterCapMs,
  });
  const call = createCaller({
    transport,
    logger: options.logger,
    tokens,
    clock,
    retryAfterCapMs,
    clientSecret: options.clientSecret,
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    ...(options.organizationId ? { organizationId: options.organizationId } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const workspaceUrl = (id: string) => `${apiBase}/workspaces/${encodeURIComponent(id)}`;
  const opt = (signal: AbortSignal | undefined) => (signal ? { signal } : {});
  const guarded = (m: MutationOptions | undefined) => ({
    ...opt(m?.signal),
    ...(m?.guard ? { guard: m.guard } : {}),
  });
  /** Ours: the configured organization, else the one the token was issued for. */
  const organization = () => options.organizationId ?? tokens.organizationId;
  // Asked of every listed workspace: ours is lower-cased once, not twice per workspace.
  let ours: { id: string; lower: string } | undefined;
  const foreign = (org: string | null | undefined) => {
    const id = organization();
    if (!id || !org || org === id) return false;
    if (ours?.id !== id) ours = { id, lower: id.toLowerCase() };
    return org.toLowerCase() !== ours.lower;
  };
  /** A workspace of another organization is never linked or changed: refuse to go on. */
  const ownOrThrow = (ws: Workspace, route: string): Workspace => {
    if (foreign(ws.organizationId)) {
      throw new PermanentError(
        `${route}: workspace ${ws.id} belongs to organization ${ws.organizationId}, not ours: left alone`,
      );
    }
    return ws;
  };

  return {
    listWorkspaces: (list: ListOptions = {}) => pages(call, apiBase, list, foreign, listingRetry),

    async getWorkspace(id, signal) {
      const res = await call({
        method: 'GET',
        url: workspaceUrl(id),
        route: ROUTES.get,
        schema: workspaceAnswer,
        accept: [404],
        retry: SYNC_CALL_RETRY,
        ...opt(signal),
      });
      // A tombstone is a deletion, exactly like a 404.
      if (!res.value || res.value.tombstone) return undefined;
      return sameWorkspace(ROUTES.get, id, ownOrThrow(toWorkspace(res.value), ROUTES.get));
    },

    async updateWorkspace(id, patch, mutation) {
      const body = definedOnly(patch);
      const res = await call({
        method: 'PUT',
        url: workspaceUrl(id),
        route: ROUTES.update,
        body,
        schema: workspaceAnswer,
        accept: [404],
        retry: SYNC_CALL_RETRY,
        ...guarded(mutation),
      });
      // The answer is the re-read: a 404 or a tombstone says the workspace is gone.
      if (!res.value || res.value.tombstone) return undefined;
      return sameWorkspace(ROUTES.update, id, toWorkspace(res.value));
    },

    async deleteWorkspace(id, mutation) {
      // After a 504 the delete usually ends in the background (docs/agent-engine-api.md): repeat it
      // once, and a 404 then means it is done.
      await call({
        method: 'DELETE',
        url: workspaceUrl(id),
        route: ROUTES.delete,
        schema: deleteAnswer,
        accept: [404],
        retry: SYNC_CALL_RETRY,
        repeatOn504: true,
        ...guarded(mutation),
      });
    },

    async createWorkspace(name, options) {
      const got = await getOrCreate(call, apiBase, name, options ?? {}, true);
      if (foreign(got.organizationId)) {
        throw new PermanentError(
          `${ROUTES.scopedTokenInfo}: workspace ${got.id} ("${name}") belongs to organization ${got.organizationId ?? ''}, not ours: not linked`,
        );
      }
      return { id: got.id, name: got.name };
    },

    async close() {
      await ownDispatcher?.close();
    },
  };
}

/**
 * Mints a scoped token for `name` (creating the workspace if no live one has it) and reads its id
 * with it. Get-or-create by name is idempotent, so a retried or repeated call is safe; but after a
 * rename the old name creates a new workspace (docs/agent-engine-api.md, "Rename trap"): callers
 * pass a name only when they hold no id.
 */
async function getOrCreate(
  call: Caller,
  apiBase: string,
  name: string,
  mutation: MutationOptions & { regionId?: string },
  remintOn401: boolean,
): Promise<{ id: string; name: string; organizationId: string | null | undefined }> {
  const opt = mutation.signal ? { signal: mutation.signal } : {};
  const minted = await call({
    method: 'POST',
    url: `${apiBase}/account/applications/scoped-token`,
    route: ROUTES.scopedToken,
    body: {
      workspace_name: name,
      ...(mutation.regionId !== undefined ? { region_id: mutation.regionId } : {}),
    },
    schema: scopedTokenAnswer,
    retry: SYNC_CALL_RETRY,
    ...opt,
    ...(mutation.guard ? { guard: mutation.guard } : {}),
  });
  // Lives in this frame only: never stored, logged or put in a message (call.ts scrubs it).
  const scoped = (minted.value as NonNullable<typeof minted.value>).token;
  let info: CallResult<z.infer<typeof scopedTokenInfoAnswer>>;
  try {
    info = await call({
      method: 'GET',
      url: `${apiBase}/account/applications/scoped-token/info`,
      route: ROUTES.scopedTokenInfo,
      schema: scopedTokenInfoAnswer,
      bearer: scoped,
      retry: MINTED_ID_RETRY,
      ...opt,
    });
  } catch (error) {
    // A scoped token refused right after it was minted (revoked in between): mint once more.
    if (!(remintOn401 && error instanceof AuthError && error.status === 401)) throw error;
    return getOrCreate(call, apiBase, name, mutation, false);
  }
  const value = info.value as NonNullable<typeof info.value>;
  // Linked to this customer from here on: a token for a workspace of another name must not be.
  if (value.workspace_name !== name) {
    throw new PermanentError(
      `${ROUTES.scopedTokenInfo} → 200: the scoped token names another workspace than the one asked for`,
    );
  }
  return {
    id: value.workspace_id,
    name: value.workspace_name,
    organizationId: value.organization_id,
  };
}

/**
 * Pages of workspaces, following `next` verbatim. A page retries in the call (`retry`): a page
 * that failed would cost the whole listing so far, since a sweep job runs once. A page that keeps
 * failing throws, and the caller must treat the listing as incomplete (never delete from it).
 */
async function* pages(
  call: Caller,
  apiBase: string,
  list: ListOptions,
  foreign: (organizationId: string) => boolean,
  retry: RetryOptions,
): AsyncGenerator<readonly Workspace[]> {
  const first = new URL(`${apiBase}/workspaces`);
  first.searchParams.set('limit', String(PAGE_SIZE));
  if (list.status) first.searchParams.set('status', list.status);
  if (list.nameContains !== undefined) first.searchParams.set('name_contains', list.nameContains);
  const seen = new Set<string>();
  const fetchPage = (url: string): Promise<CallResult<WorkspacePage>> => {
    seen.add(url);
    const answer = call({
      method: 'GET',
      url,
      route: ROUTES.list,
      schema: workspacePageAnswer,
      retry,
      ...(list.signal ? { signal: list.signal } : {}),
    });
    // Awaited later, after the caller has had the previous page: its failure must not count as
    // unhandled meanwhile (it is still thrown where the page is awaited).
    answer.catch(() => {});
    return answer;
  };
  let pending: Promise<CallResult<WorkspacePage>> | undefined = fetchPage(first.toString());
  while (pending) {
    const page = (await pending).value as WorkspacePage;
    // More than asked for is not the documented API: a listing we cannot trust is incomplete.
    if (page.data.length > PAGE_SIZE) {
      throw new PermanentError(
        `${ROUTES.list} → 200: a page of ${page.data.length} workspaces, asked for at most ${PAGE_SIZE}`,
      );
    }
    // The next page is asked for before this one is handed over: the listing is a chain of
    // requests, and whatever the caller does with a page (staging it) overlaps the next round
    // trip instead of delaying it. At most one request is ahead; a caller that stops early
    // leaves that one to end unread.
    let refused: unknown;
    try {
      pending = page.next ? fetchPage(nextPage(page.next, apiBase, seen)) : undefined;
    } catch (error) {
      // A next link we will not follow ends the listing after this page, which is still good.
      [pending, refused] = [undefined, error];
    }
    // Tombstones are gone, and another organization's workspaces are not ours to see.
    const workspaces: Workspace[] = [];
    for (const w of page.data) {
      if (!w.tombstone && !foreign(w.organization_id)) workspaces.push(toWorkspace(w));
    }
    yield workspaces;
    if (refused !== undefined) throw refused;
  }
}

/** The workspace an answer describes must be the one asked about: acting on another is worse than failing. */
function sameWorkspace(route: string, id: string, workspace: Workspace): Workspace {
  if (workspace.id !== id) {
    throw new PermanentError(`${route} → 200: the answer describes another workspace`);
  }
  return workspace;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Checks a `next` link before it is followed: same origin and API root, and not a loop. */
function nextPage(next: string, apiBase: string, seen: ReadonlySet<string>): string {
  const href = underApiRoot(next, apiBase) ? next : parsedNextPage(next, apiBase);
  if (seen.has(href)) throw new PermanentError(`${ROUTES.list}: next link repeats a page`);
  return href;
}

/** A path of plain segments (no dot, percent or backslash), then the query or the end. */
const PLAIN_PATH = /^[\w-]+(?:\/[\w-]+)*(?:[?#]|$)/;

/**
 * The next link as every page of a listing brings it: `<apiBase>/` and a plain path. Such a link
 * is under the API root as written (nothing in it can normalize elsewhere), so it is followed
 * without parsing it three times per page; anything else is parsed ({@link parsedNextPage}).
 */
function underApiRoot(next: string, apiBase: string): boolean {
  return (
    next.length > apiBase.length &&
    next.startsWith(apiBase) &&
    next.charCodeAt(apiBase.length) === 47 /* '/' */ &&
    PLAIN_PATH.test(next.slice(apiBase.length + 1))
  );
}

/** A next link checked by parsing it: same origin, under the API root; verbatim when absolute. */
function parsedNextPage(next: string, apiBase: string): string {
  let url: URL;
  try {
    url = new URL(next, apiBase);
  } catch {
    throw new PermanentError(`${ROUTES.list}: unreadable next link`);
  }
  const root = new URL(apiBase);
  // The bearer token goes wherever `next` points: another host must never receive it.
  if (url.origin !== root.origin || !url.pathname.startsWith(`${root.pathname}/`)) {
    throw new PermanentError(
      `${ROUTES.list}: refused next link to ${url.origin}${url.pathname}: not under ${apiBase}`,
    );
  }
  // Verbatim when absolute: the cursor is opaque and must not be re-encoded.
  return URL.canParse(next) ? next : url.toString();
}
