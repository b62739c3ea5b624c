/**
 * The request pipeline: route → (latency, refusal faults) → token check → body → handler →
 * answer, counting everything in the stats. Every answer is JSON.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { apiError, detail, faultReply, invalid, type Reply } from './answers.js';
import type { RequestContext, SimParts } from './context.js';
import { matchRoute, type Route, TOKEN_PATH } from './routes.js';
import type { TokenGrant } from './tokens.js';
import { isUuid, jsonIssue, uuidIssue } from './validate.js';

/** Bodies past this size answer 413; the API's own bodies are a few hundred bytes. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Timers of requests waiting out injected latency; cancelled when the simulator closes. */
export class Sleeps {
  readonly #timers = new Set<NodeJS.Timeout>();

  /** Resolves after `ms` (never, if `cancelAll` comes first: the socket is gone by then). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }

  /** Drops every pending sleep (on close: their sockets are being destroyed). */
  cancelAll(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}

/** The `node:http` request listener of a simulator. */
export function createRequestListener(
  parts: SimParts,
  ownUrl: () => string,
  sleeps: Sleeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void serve(parts, ownUrl, sleeps, req, res);
  };
}

async function serve(
  parts: SimParts,
  ownUrl: () => string,
  sleeps: Sleeps,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { stats } = parts;
  const method = req.method ?? 'GET';
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const match = matchRoute(method, path);
  const routeKey = match.route ? match.route.key : `${method} <unmatched>`;
  const mutated = match.route?.mutatesWorkspace && match.id && isUuid(match.id) ? match.id : '';
  stats.begin();
  stats.arrived(routeKey);
  if (mutated) stats.beginMutation(mutated.toLowerCase());
  if (match.route && match.route.auth !== 'none') journalExpired(parts, req, routeKey);
  let reply: Reply;
  try {
    if (!match.route) {
      reply = detail(match.status, match.status === 404 ? 'Not Found' : 'Method Not Allowed');
    } else {
      const query = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
      reply = await serveRoute(parts, match.route, match.id, query, ownUrl, sleeps, req);
    }
  } catch (error) {
    process.stderr.write(`simulator: ${routeKey} failed: ${String(error)}\n`);
    reply = apiError(500, 'Internal server error');
  } finally {
    if (mutated) stats.endMutation(mutated.toLowerCase());
    stats.end();
  }
  stats.record(routeKey, reply.status);
  send(res, reply);
}

async function serveRoute(
  parts: SimParts,
  route: Route,
  rawId: string | undefined,
  query: URLSearchParams,
  ownUrl: () => string,
  sleeps: Sleeps,
  req: IncomingMessage,
): Promise<Reply> {
  const faultsApply = parts.faults.appliesTo(
    route.key,
    route.template,
    route.template === TOKEN_PATH,
  );
  const text = route.hasBody ? await readBody(req) : '';
  if (faultsApply) {
    if (parts.faults.latencyMs > 0) await sleeps.sleep(parts.faults.latencyMs);
    const refusal = parts.faults.refuse();
    if (refusal) return faultReply(refusal.status, refusal.retryAfterSeconds);
  }
  let grant: TokenGrant | undefined;
  if (route.auth !== 'none') {
    const checked = authenticate(parts, route, req);
    if ('status' in checked) return checked;
    grant = checked.grant;
  }
  if (rawId !== undefined && !isUuid(rawId)) {
    return invalid([uuidIssue(['path', 'workspace_id'], rawId)]);
  }
  if (text === undefined) return detail(413, 'Request body too large');
  let body: unknown;
  if (route.hasBody) {
    if (text === '') return invalid([{ loc: ['body'], msg: 'Field required', type: 'missing' }]);
    try {
      body = JSON.parse(text);
    } catch {
      return invalid([jsonIssue()]);
    }
  }
  const ctx: RequestContext = {
    sim: parts,
    id: rawId?.toLowerCase(),
    query,
    body,
    baseUrl: baseUrlOf(req, ownUrl),
    grant,
    faultsApply,
  };
  return route.handle(ctx);
}

/**
 * Journals a call whose token had expired when it arrived: checked here, before any injected
 * latency, so a call sent in time and slowed down by the simulator does not count.
 */
function journalExpired(parts: SimParts, req: IncomingMessage, route: string): void {
  const header = req.headers.authorization;
  if (!header?.startsWith('Bearer ')) return;
  const expiredAt = parts.tokens.expiredAt(header.slice(7).trim());
  if (expiredAt !== undefined) {
    parts.journal.expiredCalls.push({ at: parts.clock.now(), route, expiredAt });
  }
}

/** Checks the bearer token against what the route demands, and the organization header. */
function authenticate(
  parts: SimParts,
  route: Route,
  req: IncomingMessage,
): { grant: TokenGrant } | Reply {
  const header = req.headers.authorization;
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  if (!token) return unauthorized('Not authenticated');
  const checked = parts.tokens.check(token);
  if (!checked.ok) return unauthorized(checked.detail);
  if (route.auth === 'application' && checked.grant.kind !== 'application') {
    return apiError(403, 'Forbidden', [
      {
        field: null,
        message: 'This endpoint requires an application token; a scoped token was given',
        error_code: 'forbidden',
        details: null,
      },
    ]);
  }
  if (route.auth === 'scoped' && checked.grant.kind !== 'scoped') {
    return unauthorized('Invalid token: a scoped token is required');
  }
  const org = req.headers['x-organization-id'];
  if (typeof org === 'string') {
    if (!isUuid(org)) return invalid([uuidIssue(['header', 'x-organization-id'], org)]);
    if (org.toLowerCase() !== parts.organizationId) {
      return apiError(403, 'Forbidden', [
        {
          field: 'x-organization-id',
          message: 'The token does not belong to this organization',
          error_code: 'organization_mismatch',
          details: null,
        },
      ]);
    }
  }
  return { grant: checked.grant };
}

function unauthorized(message: string): Reply {
  return { ...detail(401, message), headers: { 'www-authenticate': 'Bearer' } };
}

/** The body as text; '' when there is none, undefined when it is too large. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Keep draining, so the connection stays usable for the 413 and what follows it.
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}

const HOST = /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/;

/** Where `next` links point: the host the client addressed (as the real API's do), else ours. */
function baseUrlOf(req: IncomingMessage, ownUrl: () => string): string {
  const host = req.headers.host;
  return host && HOST.test(host) ? `http://${host}` : ownUrl();
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(reply.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(reply.body),
    ...reply.headers,
  });
  res.end(reply.body);
}
