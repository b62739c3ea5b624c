/** Failed syncs: the list, and retrying one or all (as `retry-failed`). */
import type { FastifyInstance } from 'fastify';

import { reviewFailedSyncs } from '../../ops/failed.js';
import { retryFailed, retryOne } from '../../ops/retryFailed.js';
import { failedPage } from '../pages/failed.js';
import {
  countParam,
  type Form,
  LIST_LIMIT,
  type Query,
  type RouteDeps,
  seeOther,
  send,
} from './respond.js';

export function failedRoutes(scope: FastifyInstance, { app, contextOf }: RouteDeps): void {
  scope.get('/failed', async (request, reply) => {
    const retried = countParam((request.query as Query).retried);
    const notice =
      retried === null
        ? undefined
        : {
            kind: 'notice' as const,
            text: `Queued ${retried} ${retried === 1 ? 'sync' : 'syncs'} again.`,
          };
    const [ctx, { failed, names }] = await Promise.all([
      contextOf(request, reply),
      reviewFailedSyncs(app, LIST_LIMIT),
    ]);
    return send(reply, failedPage(ctx, failed, names, notice));
  });

  scope.post('/failed/retry', async (request, reply) => {
    const subject = (request.body as Form).subject;
    const { queued } = subject ? await retryOne(app, subject) : await retryFailed(app);
    return seeOther(reply, `/failed?retried=${queued}`);
  });
}
