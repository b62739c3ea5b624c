/** The demo's `converged` line: printed once nothing is waiting, running or delayed. */
import type { App } from '../src/app.js';
import { SECOND } from '../src/lib/duration.js';

/** Waits for the queues to drain (up to a minute), then describes the state reached. */
export async function converged(
  app: Pick<App, 'queues' | 'pool'>,
  timeoutMs = 60 * SECOND,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sync = await app.queues.sync.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    const sweep = await app.queues.sweep.getJobCounts('waiting', 'active');
    const busy = [...Object.values(sync), ...Object.values(sweep)].reduce((a, b) => a + b, 0);
    if (busy === 0) break;
    if (Date.now() > deadline)
      return `not converged after ${timeoutMs / SECOND}s: ${busy} jobs still queued (see \`status\`)`;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const { rows } = await app.pool.query<{
    customers: number;
    linked: number;
    failed: number;
    orphans: number;
  }>(
    `select (select count(*)::int from customers) as customers,
            (select count(*)::int from customer_links) as linked,
            (select count(*)::int from sync_state where outcome = 'failed') as failed,
            (select count(*)::int from orphans where name <> 'default') as orphans`,
  );
  const r = rows[0] ?? { customers: 0, linked: 0, failed: 0, orphans: 0 };
  return `converged: ${r.linked} workspaces in step with ${r.customers} customers; ${r.failed} failing visibly (name clash), ${r.orphans} orphan reported, queue idle`;
}
