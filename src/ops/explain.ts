/**
 * `explain`: why is this customer (not) in step? Its row, its link, the workspace as the API shows
 * it now, its last sync and open holds, the last audit rows, and what a sync would do now —
 * decided by the very code a sync runs, with nothing recorded.
 */
import type { App } from '../app.js';
import type { Workspace } from '../agent-engine/types.js';
import { type RegionView, regionView } from '../core/region.js';
import { type Change, type Conflict, type Customer, type Link, MISSING } from '../core/types.js';
import { type AuditRow, recentAudit } from '../sql/audit.js';
import { type HeldChange, openHoldsOf } from '../sql/holds.js';
import { type LastSync, lastSyncOf } from '../sql/subjects.js';
import { inspectCustomer } from '../sync/syncSubject.js';
import { NotFoundError } from './errors.js';

export interface Explanation {
  readonly customer: Customer;
  readonly link: Link | null;
  /** The workspace as the API shows it now; null with no link, or when the API says it is gone. */
  readonly workspace: Workspace | null;
  readonly lastSync: LastSync | null;
  readonly holds: HeldChange[];
  readonly audit: AuditRow[];
  /** What a sync would do now: one asked for by name, which reads the workspace first as this does. */
  readonly wouldDo: { changes: readonly Change[]; conflict: Conflict | null };
  /**
   * The unlinked workspace of the customer's name that the last listing reported as an orphan:
   * a sync will not adopt it, a person may (`adopt`, the console). Null when there is none.
   */
  readonly adoptable: string | null;
  /** Where the workspace is and where the row wants it; a difference is reported, never acted on. */
  readonly region: RegionView;
}

/** Explains one customer; an unknown id is a {@link NotFoundError}. */
export async function explainCustomer(
  app: Pick<App, 'pool' | 'source' | 'engine' | 'policy' | 'clock' | 'config'>,
  customerId: string,
  options: { auditRows?: number } = {},
): Promise<Explanation> {
  const seen = await inspectCustomer(
    { pool: app.pool, source: app.source, engine: app.engine(), policy: app.policy },
    customerId,
    { record: false, live: true },
  );
  if (!seen) throw new NotFoundError(`no customer with id ${JSON.stringify(customerId)}`);
  const [lastSync, holds, audit] = await Promise.all([
    lastSyncOf(app.pool, customerId),
    openHoldsOf(app.pool, customerId),
    recentAudit(app.pool, customerId, options.auditRows ?? 10),
  ]);
  return {
    customer: seen.customer,
    link: seen.link,
    workspace: seen.answered ?? null,
    lastSync,
    holds,
    audit,
    wouldDo: { changes: seen.decision.changes, conflict: seen.decision.conflict },
    adoptable: seen.facts.reportedOrphan ?? null,
    // The workspace read just now: one that is gone has no region to differ from.
    region: regionView(
      seen.customer,
      seen.link && !seen.answered ? { ...seen.link, workspaceStatus: MISSING } : seen.link,
      app.config.defaultRegion,
    ),
  };
}
