/**
 * The operator's console at `/console`, on the daemon's HTTP server next to the queue dashboard
 * and behind the same login (DASHBOARD_TOKEN; see src/dashboard.ts). Server-rendered pages read
 * from Postgres; every change is a POST carrying a CSRF token, made through the same operations
 * as the CLI (src/ops/). The pages never show configuration, so never a secret.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { App } from '../app.js';
import { authorized } from '../dashboard.js';
import { NotFoundError } from '../ops/errors.js';
import { attentionCounts } from '../sql/fleet.js';
import { CONSOLE_CSS, CONSOLE_JS } from './assets.js';
import { consoleUser } from './auth.js';
import { LEGEND_CSS } from './chart.js';
import { CSRF_COOKIE, CSRF_FIELD, createCsrf, readCookie } from './csrf.js';
import { type Html, html } from './html.js';
import { CONSOLE_PATH, type PageContext, page } from './layout.js';
import { consoleRoutes } from './routes.js';

/** What the console reads and acts through: the daemon's app, minus its workers. */
export type ConsoleApp = Pick<
  App,
  'pool' | 'queues' | 'syncQueue' | 'breaker' | 'engine' | 'policy' | 'clock'
>;

export interface ConsoleOptions {
  readonly token: string;
  /** SWEEP_EVERY: the rolling window of the destructive-change limit, for the held page's why. */
  readonly windowMs: number;
}

/** Builds the page context of a request: who, and this browser's CSRF token (set on first visit). */
export type ContextOf = (request: FastifyRequest, reply: FastifyReply) => Promise<PageContext>;

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function consolePlugin(app: ConsoleApp, options: ConsoleOptions) {
  const csrf = createCsrf(options.token);
  return async (server: FastifyInstance): Promise<void> => {
    await server.register(
      async (scope) => {
        scope.addContentTypeParser(
          'application/x-www-form-urlencoded',
          { parseAs: 'string' },
          (_request, body, done) =>
            done(null, Object.fromEntries(new URLSearchParams(body as string))),
        );
        scope.addHook('onRequest', async (request, reply) => {
          void reply.headers(SECURITY_HEADERS);
          if (!authorized(request.headers.authorization, options.token)) {
            await reply
              .code(401)
              .header('www-authenticate', 'Basic realm="customer-sync", charset="UTF-8"')
              .type('text/plain')
              .send('dashboard token required');
          }
        });
        scope.addHook('preHandler', async (request, reply) => {
          if (request.method !== 'POST') return;
          const body = (request.body ?? {}) as Record<string, string | undefined>;
          const nonce = readCookie(request.headers.cookie, CSRF_COOKIE);
          if (!csrf.verify(nonce, body[CSRF_FIELD])) {
            await reply
              .code(403)
              .type('text/plain')
              .send('missing or stale form token: reload the page and try again');
          }
        });
        const contextOf: ContextOf = async (request, reply) => {
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
            nav: await attentionCounts(app.pool),
          };
        };
        scope.setErrorHandler(async (error, request, reply) => {
          const notFound = error instanceof NotFoundError;
          if (!notFound) request.log.error({ err: error }, 'console request failed');
          const ctx = await contextOf(request, reply).catch(() => ({ csrf: '', user: '' }));
          const text = notFound
            ? error.message
            : 'something went wrong; the error is in the daemon log';
          await reply
            .code(notFound ? 404 : 500)
            .type('text/html')
            .send(
              render(
                page(
                  ctx,
                  'overview',
                  notFound ? 'Not found' : 'Error',
                  html`<h1>${notFound ? 'Not found' : 'Error'}</h1>`,
                  { kind: 'error', text },
                ),
              ),
            );
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

export const render = (markup: Html): string => markup.value;
