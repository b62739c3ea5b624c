/** Finding a customer, its page (as `explain`), and syncing it now (as `enqueue`). */
import type { FastifyInstance } from 'fastify';

import { adoptWorkspace } from '../../ops/adopt.js';
import { enqueueCustomers } from '../../ops/enqueue.js';
import { NotFoundError, UsageError } from '../../ops/errors.js';
import { explainCustomer } from '../../ops/explain.js';
import { customerExists, findCustomers } from '../../ops/fleet.js';
import { approvedBy } from '../auth.js';
import { customerPage, customerUnavailablePage, searchPage } from '../pages/customer.js';
import { type Form, type Query, type RouteDeps, seeOther, send } from './respond.js';

export function customerRoutes(scope: FastifyInstance, { app, contextOf }: RouteDeps): void {
  scope.get('/customers', async (request, reply) => {
    const query = ((request.query as Query).q ?? '').trim().slice(0, 200);
    if (query === '') return seeOther(reply, '');
    const matches = await findCustomers(app, query);
    if (matches.length === 1 || matches[0]?.id === query)
      return seeOther(reply, `/customers/${encodeURIComponent(matches[0]!.id)}`);
    return send(reply, searchPage(await contextOf(request, reply), query, matches));
  });

  scope.get('/customers/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const ctx = await contextOf(request, reply);
    const query = request.query as Query;
    const notice =
      query.synced === '1'
        ? { kind: 'notice' as const, text: 'Sync queued.' }
        : query.adopted === '1'
          ? { kind: 'notice' as const, text: 'Workspace adopted; sync queued.' }
          : undefined;
    try {
      return send(
        reply,
        customerPage(ctx, await explainCustomer(app, id, { auditRows: 50 }), notice),
      );
    } catch (error) {
      // The customer exists but the API could not be asked: say so rather than fail the page.
      if (error instanceof NotFoundError || !(await customerExists(app, id))) throw error;
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

  // A person's decision (as `adopt`): a sync never adopts a workspace reported as an orphan.
  scope.post('/customers/:id/adopt', async (request, reply) => {
    const { id } = request.params as { id: string };
    const workspaceId = (request.body as Form).workspaceId?.trim() || undefined;
    const ctx = await contextOf(request, reply);
    try {
      await adoptWorkspace(app, id, workspaceId, { by: approvedBy(ctx.user) });
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      const e = await explainCustomer(app, id, { auditRows: 50 });
      return send(reply, customerPage(ctx, e, { kind: 'error', text: error.message }), 409);
    }
    request.log.info({ customerId: id, workspaceId, by: ctx.user }, 'console adoption');
    return seeOther(reply, `/customers/${encodeURIComponent(id)}?adopted=1`);
  });
}
