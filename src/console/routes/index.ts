/**
 * The console's pages and actions, a file per page. Reads and changes go through src/ops, as the
 * CLI's do (`status`, `approve`, `retry-failed`, `enqueue`, `explain`, `adopt`), never src/sql. A POST
 * answers with a redirect to the page it came from (so a reload never repeats it), which says
 * what was done.
 */
import type { FastifyInstance } from 'fastify';

import { countFleet } from '../../ops/fleet.js';
import { getStatus } from '../../ops/status.js';
import { overviewPage } from '../pages/overview.js';
import type { ConsoleApp, ConsoleOptions, ContextOf } from '../types.js';
import { customerRoutes } from './customers.js';
import { failedRoutes } from './failed.js';
import { heldRoutes } from './held.js';
import { type RouteDeps, send } from './respond.js';

export function consoleRoutes(app: ConsoleApp, options: ConsoleOptions, contextOf: ContextOf) {
  const deps: RouteDeps = { app, options, contextOf };
  return async (scope: FastifyInstance): Promise<void> => {
    scope.get('/', async (request, reply) => {
      const [ctx, fleet, status] = await Promise.all([
        contextOf(request, reply),
        countFleet(app),
        getStatus(app, { sweeps: 30, limit: 50 }),
      ]);
      return send(reply, overviewPage(ctx, { fleet, status }));
    });

    heldRoutes(scope, deps);
    failedRoutes(scope, deps);
    customerRoutes(scope, deps);
  };
}
