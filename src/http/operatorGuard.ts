/**
 * The guard of the operator's pages, the console (`/console`) and the queue dashboard
 * (`/admin/queues`), shared by both: every answer forbids framing and caching; a change (any
 * method but GET and HEAD) is refused 403 unless it comes from the daemon's own pages; too many
 * failed logins from one address are answered 429 (src/http/loginLimit.ts); then the login,
 * DASHBOARD_TOKEN as a bearer token or as the password of HTTP basic auth (what a browser
 * prompts for), compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import type { FastifyInstance, FastifyReply } from 'fastify';

import { SECOND } from '../lib/duration.js';
import type { LoginLimiter } from './loginLimit.js';

/** What every operator page's answer carries; each surface adds its own content security policy. */
export const OPERATOR_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
});

export interface OperatorGuardOptions {
  readonly token: string;
  /** Failed logins per address, one count for the console and the dashboard together. */
  readonly logins: LoginLimiter;
  /** The surface's content security policy; it must say `frame-ancestors 'none'`. */
  readonly contentSecurityPolicy: string;
}

const READS = new Set(['GET', 'HEAD']);

/** Guards every route of `scope` (registered after this call, or before: hooks apply to all). */
export function guardOperatorScope(scope: FastifyInstance, options: OperatorGuardOptions): void {
  const headers = { ...OPERATOR_HEADERS, 'content-security-policy': options.contentSecurityPolicy };
  // On send, so what a route or a static file sets (Bull Board's caching) cannot undo them.
  scope.addHook('onSend', async (_request, reply, payload) => {
    void reply.headers(headers);
    return payload;
  });
  scope.addHook('onRequest', async (request, reply) => {
    if (!READS.has(request.method) && !sameOrigin(request.headers)) {
      request.log.warn({ method: request.method }, 'refused a change from another site');
      return refuse(reply, 403, "refused: a change must come from this daemon's own pages");
    }
    const waitMs = options.logins.waitMs(request.ip);
    if (waitMs > 0) {
      void reply.header('retry-after', String(Math.max(1, Math.ceil(waitMs / SECOND))));
      return refuse(reply, 429, 'too many failed logins from this address: try again later');
    }
    const header = request.headers.authorization;
    if (authorized(header, options.token)) return options.logins.succeeded(request.ip);
    // No credentials at all is a browser's first visit, answered with the prompt: not a failure.
    if (header !== undefined && options.logins.failed(request.ip)) {
      request.log.warn({ address: request.ip }, 'too many failed logins; address refused a while');
    }
    void reply.header('www-authenticate', 'Basic realm="customer-sync", charset="UTF-8"');
    return refuse(reply, 401, 'dashboard token required');
  });
}

async function refuse(reply: FastifyReply, status: number, message: string): Promise<void> {
  await reply.code(status).type('text/plain; charset=utf-8').send(message);
}

/**
 * Does this request come from the daemon's own pages? `Sec-Fetch-Site` decides when present (a
 * browser sets it and no page can); else `Origin` must name the host the request was sent to;
 * with neither, it is no browser's (a script with the token), and no site can have forged it.
 */
export function sameOrigin(headers: IncomingHttpHeaders): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === headers.host?.toLowerCase();
  } catch {
    return false; // `null` (a sandboxed frame, a file) and anything unreadable
  }
}

/** `Bearer <token>`, or `Basic` with the token as the password (any user name). */
export function authorized(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const [scheme, value = ''] = header.split(' ', 2);
  let presented: string | undefined;
  if (scheme?.toLowerCase() === 'bearer') presented = value;
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    presented = decoded.slice(decoded.indexOf(':') + 1);
  }
  if (presented === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(token));
}
