/**
 * How long a client may take over a request, and how many may be connected at once. A socket that
 * sends half a request and goes idle, or trickles it a byte at a time, is closed within a minute,
 * and the number open at once is capped: slow senders cannot hold the file descriptors Postgres
 * and Redis need. Node's own deadlines do the work (Fastify leaves them off by default).
 */
import { createServer, type RequestListener, type Server } from 'node:http';

import type { Clock } from '../lib/clock.js';
import { MINUTE, SECOND } from '../lib/duration.js';
import type { Logger } from '../lib/logger.js';

export interface HttpLimits {
  /** Until the request line and headers are in; then 408 and the socket is closed (≤ request). */
  readonly headersTimeoutMs: number;
  /**
   * Until the whole request, body included, is in: the body-read deadline (256 KiB in 30 s is
   * 9 KB/s, far below any sender's link). Then 408 and the socket is closed.
   */
  readonly requestTimeoutMs: number;
  /** A socket with no byte either way for this long is destroyed, mid-request or not. */
  readonly idleTimeoutMs: number;
  /**
   * An idle keep-alive connection between two requests. A proxy in front should close its idle
   * upstream connections sooner than this, or it may reuse one just as the daemon closes it.
   */
  readonly keepAliveTimeoutMs: number;
  /** How often Node checks the header and request deadlines: a socket may outlive them by this. */
  readonly checkEveryMs: number;
  /** Connections open at once; one more is closed as it arrives (a webhook sender retries). */
  readonly maxConnections: number;
}

/** The daemon's limits: every stalled socket is closed within 35 s (30 s plus one check). */
export const HTTP_LIMITS: HttpLimits = Object.freeze({
  headersTimeoutMs: 10 * SECOND,
  requestTimeoutMs: 30 * SECOND,
  idleTimeoutMs: 30 * SECOND,
  keepAliveTimeoutMs: 30 * SECOND,
  checkEveryMs: 5 * SECOND,
  maxConnections: 512,
});

/**
 * A plain HTTP server with the limits applied; `wrap` may put each request inside something (a
 * tracing span). Connections refused at the cap are logged at most once a minute, with a count.
 */
export function limitedServer(
  handler: RequestListener,
  limits: HttpLimits,
  deps: { logger: Logger; clock: Clock },
): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: limits.checkEveryMs,
    },
    handler,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // No 'timeout' listener: Node destroys the idle socket itself.
  server.setTimeout(limits.idleTimeoutMs);
  server.maxConnections = limits.maxConnections;
  let dropped = 0;
  let warnedAt = -Infinity;
  server.on('drop', () => {
    dropped += 1;
    if (deps.clock.now() - warnedAt < MINUTE) return;
    deps.logger.warn(
      { maxConnections: limits.maxConnections, dropped },
      'connection cap reached: new connections are closed until stalled ones time out',
    );
    warnedAt = deps.clock.now();
    dropped = 0;
  });
  return server;
}
