/**
 * The HTTP server: webhooks, health, readiness and metrics (docs/contract.md, HTTP). Built by
 * `createHttpServer(deps)` from injected parts, so tests run it on port 0 against a real database
 * and a recording queue. It never calls the Agent Engine.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerFactory,
  LogController,
} from 'fastify';

import type { Config } from '../config.js';
import type { SyncQueue } from '../core/ports.js';
import type pg from 'pg';
import { type Clock, systemClock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../metrics.js';
import { inServerSpan, nameServerSpan } from '../tracing/spans.js';
import { MAX_WEBHOOK_BODY_BYTES, webhookRoutes } from '../webhooks/routes.js';
import { HTTP_LIMITS, type HttpLimits, limitedServer } from './limits.js';
import { type Readiness, opsRoutes } from './ops.js';

export type { HttpLimits } from './limits.js';
export type { Readiness, ReadinessReport } from './ops.js';

/** What the server is built from; the composition root supplies real ones, tests their own. */
export interface HttpDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly pool: pg.Pool;
  readonly syncQueue: SyncQueue;
  readonly metrics: Metrics;
  readonly clock?: Clock;
  readonly readiness: Readiness;
  /** Extra routes (e.g. an admin dashboard), each registered in its own scope. */
  readonly plugins?: readonly ((app: FastifyInstance) => Promise<void>)[];
  /** Tracing on: each request is a server span, the root of what it causes. */
  readonly traced?: boolean;
  /** Timeouts and the connection cap; {@link HTTP_LIMITS} unless a test shortens them. */
  readonly limits?: Partial<HttpLimits>;
}

/** A built server: the Fastify app (for `inject` in tests), and its lifecycle. */
export interface HttpServer {
  readonly app: FastifyInstance;
  /** Listens on `config.host:config.port`; resolves to the URL, e.g. `http://127.0.0.1:8080`. */
  listen(): Promise<string>;
  /** Stops accepting, lets in-flight requests finish; safe to call more than once. */
  close(): Promise<void>;
}

/** The server under Fastify: limited (src/http/limits.ts), each request in a span when traced. */
function serverFactory(
  limits: HttpLimits,
  traced: boolean,
  deps: { logger: Logger; clock: Clock },
): FastifyServerFactory {
  return (handler) =>
    limitedServer(
      traced
        ? (req, res) =>
            inServerSpan(
              req.method ?? 'GET',
              req.headers,
              (done) => res.once('close', () => done(res.statusCode)),
              () => handler(req, res),
            )
        : handler,
      limits,
      deps,
    );
}

/** Builds the server with every route registered; it does not listen until `listen()`. */
export function createHttpServer(deps: HttpDeps): HttpServer {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger.child({ component: 'http' });
  const app = Fastify({
    // Widened to Fastify's logger type so `app` is a plain FastifyInstance for plugins.
    loggerInstance: logger as FastifyBaseLogger,
    // One debug line per request (below) instead of Fastify's two at info.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_WEBHOOK_BODY_BYTES,
    // The client of a request (the login limit's key) is the peer, unless it is a proxy the
    // operator named: then the address it forwarded.
    trustProxy: deps.config.trustProxy.length > 0 ? [...deps.config.trustProxy] : false,
    serverFactory: serverFactory({ ...HTTP_LIMITS, ...deps.limits }, deps.traced === true, {
      logger,
      clock,
    }),
  });
  if (deps.traced) {
    app.addHook('onRequest', async (request) =>
      nameServerSpan(request.method, request.routeOptions.url),
    );
  }

  app.addHook('onResponse', async (request, reply) => {
    // The route template, never the raw URL: a query string is the sender's, not ours to log.
    request.log.debug(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });
  void app.register(opsRoutes({ metrics: deps.metrics, readiness: deps.readiness }));
  void app.register(webhookRoutes({ ...deps, clock }));
  for (const plugin of deps.plugins ?? []) void app.register(plugin);

  let closing: Promise<void> | undefined;
  return {
    app,
    listen: () => app.listen({ port: deps.config.port, host: deps.config.host }),
    close: () => (closing ??= app.close()),
  };
}
