/**
 * The queue dashboard (Bull Board) at `/admin/queues`, on the daemon's HTTP server. Off unless
 * DASHBOARD_TOKEN is set; then every request must carry it, as a bearer token or as the password
 * of HTTP basic auth (what a browser prompts for), compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import type { FastifyInstance } from 'fastify';

import type { Queues } from './sync/queues.js';

export const DASHBOARD_PATH = '/admin/queues';

export function dashboardPlugin(queues: Queues, token: string) {
  return async (app: FastifyInstance): Promise<void> => {
    // Loaded only when the dashboard is on: Bull Board costs a daemon about 30 MiB and 0.2 s.
    const [{ createBullBoard }, { BullMQAdapter }, { FastifyAdapter }] = await Promise.all([
      import('@bull-board/api'),
      import('@bull-board/api/bullMQAdapter'),
      import('@bull-board/fastify'),
    ]);
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(DASHBOARD_PATH);
    createBullBoard({
      queues: [queues.sync, queues.sweep, queues.due].map((q) => new BullMQAdapter(q)),
      serverAdapter,
    });
    await app.register(async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        if (!authorized(request.headers.authorization, token)) {
          await reply
            .code(401)
            .header('www-authenticate', 'Basic realm="customer-sync", charset="UTF-8"')
            .send({ error: 'dashboard token required' });
        }
      });
      await scope.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
    });
  };
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
