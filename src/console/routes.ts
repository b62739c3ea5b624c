/**
 * The console's pages and actions. Reads go through src/ops and src/sql; changes go through the
 * same operations as the CLI (`approve`, `retry-failed`, `enqueue`). A POST answers with a
 * redirect to the page it came from (so a reload never repeats it), which says what was done.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';

import { approve } from '../ops/approve.js';
import { enqueueCustomers } from '../ops/enqueue.js';
import { NotFoundError } from '../ops/errors.js';
import { explainCustomer } from '../ops/explain.js';
import { retryFailed, retryOne } from '../ops/retryFailed.js';
import { getStatus } from '../ops/status.js';
import { customerNames, fleetCounts, searchCustomers } from '../sql/fleet.js';
import { type ApprovalTarget, heldChanges } from '../sql/holds.js';
import { getCustomer } from '../sql/customers.js';
import { getSweep, type SweepRow } from '../sql/sweepProgress.js';
import { failedSyncs } from '../sql/syncState.js';
import { approvedBy } from './auth.js';
import type { Html } from './html.js';
import { CONSOLE_PATH } from './layout.js';
import { customerPage, customerUnavailablePage, searchPage } from './pages/customer.js';
import { failedPage } from './pages/failed.js';
import { confirmApprovalPage, heldPage } from './pages/held.js';
import { overviewPage } from './pages/overview.js';
import type { ConsoleApp, ConsoleOptions, ContextOf } from './plugin.js';

/** How many rows a list page shows. */
const LIST_LIMIT = 1000;

type Form = Record<string, string | undefined>;
type Query = Record<string, string | undefined>;

const send = (reply: FastifyReply, markup: Html, code = 200) =>
  reply.code(code).type('text/html; charset=utf-8').send(markup.value);

const seeOther = (reply: FastifyReply, path: string) =>
  reply.code(303).redirect(`${CONSOLE_PATH}${path}`);

/** A count from a redirect's query string (only digits are read back). */
const countParam = (value: string | undefined) =>
  value && /^\d{1,9}$/.test(value) ? Number(value) : null;

/** `hold:12`, `sweep:<id>` or `all`, as the forms carry it. */
export function parseTarget(value: string | undefined): ApprovalTarget | null {
  if (value === 'all') return { kind: 'all' };
  const hold = /^hold:(\d{1,15})$/.exec(value ?? '');
  if (hold) return { kind: 'hold', holdId: Number(hold[1]) };
  const sweep = /^sweep:(.{1,200})$/.exec(value ?? '');
  return sweep ? { kind: 'sweep', sweepId: sweep[1]! } : null;
}

export function consoleRoutes(app: ConsoleApp, options: ConsoleOptions, contextOf: ContextOf) {
  const heldData = async () => {
    const held = await heldChanges(app.pool, LIST_LIMIT);
    const ids = [...new Set(held.flatMap((h) => (h.sweepId ? [h.sweepId] : [])))];
    const rows = await Promise.all(ids.map((id) => getSweep(app.pool, id)));
    const sweeps = new Map(rows.flatMap((s): [string, SweepRow][] => (s ? [[s.id, s]] : [])));
    const names = await customerNames(
      app.pool,
      held.flatMap((h) => (h.customerId ? [h.customerId] : [])),
    );
    return { held, sweeps, names, policy: app.policy, windowMs: options.windowMs };
  };

  return async (scope: FastifyInstance): Promise<void> => {
    scope.get('/', async (request, reply) => {
      const [ctx, fleet, status] = await Promise.all([
        contextOf(request, reply),
        fleetCounts(app.pool),
        getStatus(app, { sweeps: 30, limit: 50 }),
      ]);
      return send(reply, overviewPage(ctx, { fleet, status }));
    });

    scope.get('/held', async (request, reply) => {
      const q = request.query as Query;
      const approved = countParam(q.approved);
      const notice =
        approved === null
          ? undefined
          : {
              kind: 'notice' as const,
              text: `Approved ${approved} ${approved === 1 ? 'change' : 'changes'}; queued ${countParam(q.queued) ?? 0} syncs.`,
            };
      return send(reply, heldPage(await contextOf(request, reply), await heldData(), notice));
    });

    scope.get('/held/approve', async (request, reply) => {
      const param = (request.query as Query).target;
      const target = parseTarget(param);
      if (!target || !param) throw new NotFoundError('no such held change');
      const { held, names } = await heldData();
      const holds = held.filter((h) =>
        target.kind === 'all'
          ? true
          : target.kind === 'hold'
            ? h.holdId === target.holdId
            : h.sweepId === target.sweepId,
      );
      const description =
        target.kind === 'all'
          ? 'every held change'
          : target.kind === 'hold'
            ? `hold ${target.holdId}`
            : `the changes sweep ${target.sweepId} held`;
      return send(
        reply,
        confirmApprovalPage(await contextOf(request, reply), param, description, holds, names),
      );
    });

    scope.post('/held/approve', async (request, reply) => {
      const target = parseTarget((request.body as Form).target);
      if (!target) throw new NotFoundError('no such held change');
      const ctx = await contextOf(request, reply);
      const result = await approve(app, target, { by: approvedBy(ctx.user) });
      request.log.info(
        { target, approved: result.approved.length, by: ctx.user },
        'console approval',
      );
      return seeOther(reply, `/held?approved=${result.approved.length}&queued=${result.queued}`);
    });

    scope.get('/failed', async (request, reply) => {
      const retried = countParam((request.query as Query).retried);
      const notice =
        retried === null
          ? undefined
          : {
              kind: 'notice' as const,
              text: `Queued ${retried} ${retried === 1 ? 'sync' : 'syncs'} again.`,
            };
      const [ctx, failed] = await Promise.all([
        contextOf(request, reply),
        failedSyncs(app.pool, LIST_LIMIT),
      ]);
      const names = await customerNames(
        app.pool,
        failed.map((f) => f.customerId),
      );
      return send(reply, failedPage(ctx, failed, names, notice));
    });

    scope.post('/failed/retry', async (request, reply) => {
      const subject = (request.body as Form).subject;
      const { queued } = subject ? await retryOne(app, subject) : await retryFailed(app);
      return seeOther(reply, `/failed?retried=${queued}`);
    });

    scope.get('/customers', async (request, reply) => {
      const query = ((request.query as Query).q ?? '').trim().slice(0, 200);
      if (query === '') return seeOther(reply, '');
      const matches = await searchCustomers(app.pool, query);
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
        if (error instanceof NotFoundError || !(await getCustomer(app.pool, id))) throw error;
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
  };
}
