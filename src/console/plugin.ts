/**
 * The operator's console at `/console`, on the daemon's HTTP server next to the queue dashboard
 * and behind the same guard (DASHBOARD_TOKEN; see src/http/operatorGuard.ts). Server-rendered
 * pages read from Postgres through the same operations as the CLI (src/ops/, never src/sql/);
 * every change is a POST carrying a CSRF token (and coming from the console's own pages), made
 * through those operations too. The pages never
 * show configuration, so never a secret.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { guardOperatorScope } from '../http/operatorGuard.js';
import { NotFoundError } from '../ops/errors.js';
import { countAttention } from '../ops/fleet.js';
import { CONSOLE_CSS, CONSOLE_JS } from './assets.js';
import { consoleUser } from './auth.js';
import { LEGEND_CSS } from './chart.js';
import { CSRF_COOKIE, CSRF_FIELD, type Csrf, createCsrf, readCookie } from './csrf.js';
import { html } from './html.js';
import { CONSOLE_PATH, page } from './layout.js';
import { consoleRoutes } from './routes/index.js';
import type { ConsoleApp, ConsoleOptions, ContextOf } from './types.js';

export type { ConsoleApp, ConsoleOptions } from './types.js';

/** With the headers every operator page sends (src/http/operatorGuard.ts). */
const CONSOLE_CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function consolePlugin(app: ConsoleApp, options: ConsoleOptions) {
  const csrf = createCsrf(options.token);
  const contextOf = pageContext(app, csrf);
  return async (server: FastifyInstance): Promise<void> => {
    await server.register(
      async (scope) => {
        scope.addContentTypeParser(
          'application/x-www-form-urlencoded',
          { parseAs: 'string' },
          (_request, body, done) =>
            done(null, Object.fromEntries(new URLSearchParams(body as string))),
        );
        guardOperatorScope(scope, {
          token: options.token,
          logins: options.logins,
          contentSecurityPolicy: CONSOLE_CSP,
        });
        scope.addHook('preHandler', requireFormToken(csrf));
        scope.setErrorHandler(async (error, request, reply) => {
          await sendError(error, request, reply, contextOf);
        });
        scope.get('/assets/console.css', async (_request, reply) =>
          reply.type('text/css').send(`${CONSOLE_CSS}\n${LEGEND_CSS}\n`),
        );
        scope.get('/assets/console.js', async (_request, reply) =>
          reply.type('text/javascript').send(CONSOLE_JS),
        );
        await scope.register(consoleRoutes(app, options, contextOf));
      },
      { prefix: CONSOLE_PATH },
    );
  };
}

/** A POST goes ahead only with the form token of this browser's cookie nonce. */
function requireFormToken(csrf: Csrf) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.method !== 'POST') return;
    const body = (request.body ?? {}) as Record<string, string | undefined>;
    if (csrf.verify(readCookie(request.headers.cookie, CSRF_COOKIE), body[CSRF_FIELD])) return;
    await reply
      .code(403)
      .type('text/plain')
      .send('missing or stale form token: reload the page and try again');
  };
}

/** Who is asking, this browser's form token (its cookie set on the first visit), the nav counts. */
function pageContext(app: ConsoleApp, csrf: Csrf): ContextOf {
  return async (request, reply) => {
    let nonce = readCookie(request.headers.cookie, CSRF_COOKIE);
    if (!nonce || !/^[\w-]{16,64}$/.test(nonce)) {
      nonce = csrf.nonce();
      void reply.header(
        'set-cookie',
        `${CSRF_COOKIE}=${nonce}; Path=${CONSOLE_PATH}; HttpOnly; SameSite=Strict`,
      );
    }
    return {
      csrf: csrf.token(nonce),
      user: consoleUser(request.headers.authorization),
      nav: await countAttention(app),
    };
  };
}

/**
 * An error as a page: a missing customer, hold or sweep is a 404 naming it; a refused request
 * keeps Fastify's 4xx; anything else is a 500 whose detail goes to the log, not the page.
 */
async function sendError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  contextOf: ContextOf,
): Promise<void> {
  const status =
    error instanceof NotFoundError
      ? 404
      : typeof (error as { statusCode?: unknown }).statusCode === 'number'
        ? (error as { statusCode: number }).statusCode
        : 500;
  const code = status >= 400 && status < 600 ? status : 500;
  if (code >= 500) request.log.error({ err: error }, 'console request failed');
  const title = code === 404 ? 'Not found' : code < 500 ? 'Refused' : 'Error';
  const text =
    code < 500 && error instanceof Error
      ? error.message
      : 'something went wrong; the error is in the daemon log';
  const ctx = await contextOf(request, reply).catch(() => ({ csrf: '', user: '' }));
  const body = page(ctx, 'overview', title, html`<h1>${title}</h1>`, { kind: 'error', text });
  await reply.code(code).type('text/html; charset=utf-8').send(body.value);
}
