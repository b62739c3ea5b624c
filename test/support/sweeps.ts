/** Running a sweep on a live daemon and waiting for it and every sync it queued. */
import { randomUUID } from 'node:crypto';

import type { App } from '../../src/app.js';
import { sweepProgress } from '../../src/sql/sweepProgress.js';
import { waitFor } from './wait.js';

/** Queues a sweep on the running daemon and waits until it and all its syncs have ended. */
export async function sweepAndWait(app: App, timeoutMs = 90_000) {
  const sweepId = randomUUID();
  await app.queues.sweep.add('sweep', { trigger: 'manual', sweepId }, { jobId: sweepId });
  return waitFor(
    async () => {
      const p = await sweepProgress(app.pool, sweepId);
      return p.sweep?.finishedAt && p.ended >= p.queued ? { ...p, sweepId } : undefined;
    },
    { timeoutMs, what: `sweep ${sweepId}`, intervalMs: 100 },
  );
}
