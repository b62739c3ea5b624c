/** Held changes: the list, the confirmation step, and the approval (as `approve`). */
import type { FastifyInstance } from 'fastify';

import { type ApprovalTarget, approve } from '../../ops/approve.js';
import { NotFoundError } from '../../ops/errors.js';
import { reviewHeldChanges } from '../../ops/held.js';
import { approvedBy } from '../auth.js';
import { confirmApprovalPage, type HeldData, heldPage } from '../pages/held.js';
import {
  countParam,
  type Form,
  LIST_LIMIT,
  type Query,
  type RouteDeps,
  seeOther,
  send,
} from './respond.js';

/** `hold:12`, `sweep:<id>` or `all`, as the forms carry it. */
export function parseTarget(value: string | undefined): ApprovalTarget | null {
  if (value === 'all') return { kind: 'all' };
  const hold = /^hold:(\d{1,15})$/.exec(value ?? '');
  if (hold) return { kind: 'hold', holdId: Number(hold[1]) };
  const sweep = /^sweep:(.{1,200})$/.exec(value ?? '');
  return sweep ? { kind: 'sweep', sweepId: sweep[1]! } : null;
}

/**
 * The hold ids a confirmation form carries (`12,13,14`): what the person was shown, and the only
 * holds the POST releases. Null when the field is missing or not a list of ids.
 */
export function parseShown(value: string | undefined): number[] | null {
  if (value === undefined || !/^\d{1,15}(,\d{1,15})*$/.test(value)) return null;
  return value.split(',').map(Number);
}

/** The holds, the sweeps that held them, their customers' names, and the limit that held them. */
async function heldData({ app, options }: RouteDeps): Promise<HeldData> {
  const review = await reviewHeldChanges(app, LIST_LIMIT);
  return { ...review, policy: app.policy, windowMs: options.windowMs };
}

export function heldRoutes(scope: FastifyInstance, deps: RouteDeps): void {
  const { app, contextOf } = deps;
  scope.get('/held', async (request, reply) => {
    const q = request.query as Query;
    const approved = countParam(q.approved);
    const dropped = countParam(q.dropped) ?? 0;
    const notice =
      approved === null
        ? undefined
        : {
            kind: 'notice' as const,
            text:
              `Approved ${approved} ${approved === 1 ? 'change' : 'changes'}; queued ${countParam(q.queued) ?? 0} syncs.` +
              (dropped > 0
                ? ` Dropped ${dropped} that the customers' current rows no longer call for.`
                : ''),
          };
    return send(reply, heldPage(await contextOf(request, reply), await heldData(deps), notice));
  });

  scope.get('/held/approve', async (request, reply) => {
    const param = (request.query as Query).target;
    const target = parseTarget(param);
    if (!target || !param) throw new NotFoundError('no such held change');
    const { held, names } = await heldData(deps);
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

  // Releases exactly the holds the confirmation page showed (its form carries their ids), never
  // holds that appeared since, nor those past the page's list.
  scope.post('/held/approve', async (request, reply) => {
    const form = request.body as Form;
    const target = parseTarget(form.target);
    if (!target) throw new NotFoundError('no such held change');
    const only = target.kind === 'hold' ? [target.holdId] : parseShown(form.holds);
    if (!only) {
      return reply
        .code(400)
        .type('text/plain; charset=utf-8')
        .send('the approval form must carry the holds it showed (reload the confirmation page)');
    }
    const ctx = await contextOf(request, reply);
    const result = await approve(app, target, { by: approvedBy(ctx.user), only });
    request.log.info(
      {
        target,
        shown: only.length,
        approved: result.approved.length,
        dropped: result.dropped.length,
        by: ctx.user,
      },
      'console approval',
    );
    const { approved, dropped, queued } = result;
    return seeOther(
      reply,
      `/held?approved=${approved.length}&queued=${queued}&dropped=${dropped.length}`,
    );
  });
}
