/**
 * The queue dashboard (Bull Board) at `/admin/queues`, on the daemon's HTTP server. Off unless
 * DASHBOARD_TOKEN is set; then it is guarded like the console (src/http/operatorGuard.ts): the
 * token on every request, no framing, no caching, no change from another site, failed logins
 * limited per address.
 */
import type { FastifyInstance } from 'fastify';

import type { LoginLimiter } from './http/loginLimit.js';
import { guardOperatorScope } from './http/operatorGuard.js';
import type { Queues } from './sync/queues.js';

export const DASHBOARD_PATH = '/admin/queues';

/** Bull Board's page loads its own scripts and styles; the policy only forbids framing it. */
const DASHBOARD_CSP = "frame-ancestors 'none'";

export interface DashboardOptions {
  readonly token: string;
  readonly logins: LoginLimiter;
}

export function dashboardPlugin(queues: Queues, options: DashboardOptions) {
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
      guardOperatorScope(scope, { ...options, contentSecurityPolicy: DASHBOARD_CSP });
      await scope.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
    });
  };
}
