/** `retry-failed`: queues again every subject whose last sync failed (trigger `retry`). */
import type { App } from '../app.js';
import { failedSubjectsAfter } from '../sql/subjects.js';
import { ENQUEUE_BATCH } from './enqueue.js';

/** Queues every failed subject, a page at a time; returns how many. */
export async function retryFailed(
  app: Pick<App, 'pool' | 'syncQueue'>,
): Promise<{ queued: number }> {
  let after: string | null = null;
  let queued = 0;
  for (;;) {
    const subjects = await failedSubjectsAfter(app.pool, after, ENQUEUE_BATCH);
    if (subjects.length === 0) break;
    await app.syncQueue.enqueue(subjects, 'retry');
    queued += subjects.length;
    after = subjects[subjects.length - 1] ?? after;
  }
  return { queued };
}
