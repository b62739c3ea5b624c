/**
 * The console's pages and actions, a file per page. Reads go through src/ops and src/sql;
 * changes go through the same operations as the CLI (`approve`, `retry-failed`, `enqueue`). A POST
 * answers with a redirect to the page it came from (so a reload never repeats it), which says
 * what was done.
 */
import type { FastifyInstance } from 'fastify';

import { getStatus } from '../../ops/status.js';
import { fleetCounts } from '../../sql/fleet.js';
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
        fleetCounts(app.pool, app.source),
        getStatus(app, { sweeps: 30, limit: 50 }),
      ]);
      return send(reply, overviewPage(ctx, { fleet, status }));
    });

    heldRoutes(scope, deps);
    failedRoutes(scope, deps);
    customerRoutes(scope, deps);
  };
}
