/** Finding a customer, its page (as `explain`), and syncing it now (as `enqueue`). */
import type { FastifyInstance } from 'fastify';

import { enqueueCustomers } from '../../ops/enqueue.js';
import { NotFoundError } from '../../ops/errors.js';
import { explainCustomer } from '../../ops/explain.js';
import { getCustomer } from '../../sql/customers.js';
import { searchCustomers } from '../../sql/fleet.js';
import { customerPage, customerUnavailablePage, searchPage } from '../pages/customer.js';
import { type Query, type RouteDeps, seeOther, send } from './respond.js';

export function customerRoutes(scope: FastifyInstance, { app, contextOf }: RouteDeps): void {
  scope.get('/customers', async (request, reply) => {
    const query = ((request.query as Query).q ?? '').trim().slice(0, 200);
    if (query === '') return seeOther(reply, '');
    const matches = await searchCustomers(app.pool, app.source, query);
    if (matches.length === 1 || matches[0]?.id === query)
      return seeOther(reply, `/customers/${encodeURIComponent(matches[0]!.id)}`);
    return send(reply, searchPage(await contextOf(request, reply), query, matches));
  });

  scope.get('/customers/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const ctx = await contextOf(request, reply);
    const synced = (request.query as Query).synced === '1';
    const notice = synced ? { kind: 'notice' as const, text: 'Sync queued.' } : undefined;
    try {
      return send(
        reply,
        customerPage(ctx, await explainCustomer(app, id, { auditRows: 50 }), notice),
      );
    } catch (error) {
      // The customer exists but the API could not be asked: say so rather than fail the page.
      if (error instanceof NotFoundError || !(await getCustomer(app.pool, app.source, id)))
        throw error;
      return send(
        reply,
        customerUnavailablePage(ctx, id, error instanceof Error ? error.message : String(error)),
        502,
      );
    }
  });

  scope.post('/customers/:id/sync', async (request, reply) => {
    const { id } = request.params as { id: string };
    const { unknown } = await enqueueCustomers(app, [id]);
    if (unknown.length > 0) throw new NotFoundError(`no customer with id ${JSON.stringify(id)}`);
    return seeOther(reply, `/customers/${encodeURIComponent(id)}?synced=1`);
  });
}
