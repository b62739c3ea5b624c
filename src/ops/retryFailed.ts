/**
 * `retry-failed`: queues again every subject whose last sync failed (trigger `retry`), or one of
 * them. A person asks: each sync reads its workspace before deciding.
 */
import type { App } from '../app.js';
import { failedSubjectsAfter, lastSyncOf } from '../sql/subjects.js';
import { ENQUEUE_BATCH } from './enqueue.js';
import { NotFoundError } from './errors.js';

/** Queues every failed subject, a page at a time; returns how many. */
export async function retryFailed(
  app: Pick<App, 'pool' | 'syncQueue'>,
): Promise<{ queued: number }> {
  let after: string | null = null;
  let queued = 0;
  for (;;) {
    const subjects = await failedSubjectsAfter(app.pool, after, ENQUEUE_BATCH);
    if (subjects.length === 0) break;
    await app.syncQueue.enqueue(subjects, 'retry', { readFirst: true });
    queued += subjects.length;
    after = subjects[subjects.length - 1] ?? after;
  }
  return { queued };
}

/** Queues one failed subject again (trigger `retry`); one whose last sync did not fail is a {@link NotFoundError}. */
export async function retryOne(
  app: Pick<App, 'pool' | 'syncQueue'>,
  subject: string,
): Promise<{ queued: number }> {
  const last = await lastSyncOf(app.pool, subject);
  if (last?.outcome !== 'failed')
    throw new NotFoundError(`no failed sync for ${JSON.stringify(subject)}`);
  await app.syncQueue.enqueue([subject], 'retry', { readFirst: true });
  return { queued: 1 };
}
