/**
 * `plan`: what a sweep would do now, like `terraform plan`. Reads both sides through the sweep
 * itself in dry-run mode, so the plan and the sweep can never disagree; changes nothing.
 */
import type { App } from '../app.js';
import type { Change, Conflict } from '../core/types.js';
import { existingCustomerIds } from '../sql/subjects.js';
import { runSweep, type SweepProgress } from '../sync/sweep.js';
import type { SourceOutageReport } from '../sync/sweepTypes.js';
import { NotFoundError } from './errors.js';

/** The plan, as `plan --json` prints it (docs/contract.md: changes, orphans, held; plus more). */
export interface PlanResult {
  readonly changes: Change[];
  readonly orphans: { workspaceId: string; name: string; status: string }[];
  /** Customers that cannot be given a workspace without sharing one (their syncs fail visibly). */
  readonly conflicts: Conflict[];
  /** Would the sweep hold its destructive changes for `approve`? */
  readonly held: boolean;
  /**
   * The customers source looks out (no rows while workspaces are linked, or far fewer than its
   * accepted size): a sweep would hold the destructive changes of customers whose rows left it,
   * whatever the fleet's size (`held` then says so). Null when it does not.
   */
  readonly sourceOutage: SourceOutageReport | null;
  /** The plan's destructive changes exceed the mass-change limit (`held` then says so). */
  readonly limitExceeded: boolean;
  /**
   * How many of the plan's changes are destructive (deactivations, deletes, re-creations of
   * workspaces that went missing): what the mass-change limit counts. The whole plan's, also
   * with `customerId`.
   */
  readonly destructive: number;
  /** False when the workspace listing failed part-way: then nothing destructive is planned. */
  readonly listingComplete: boolean;
  readonly counts: Record<string, number>;
  readonly error?: string;
}

export interface PlanOptions {
  /** Only this customer's changes and conflicts (the sweep still reads both sides whole). */
  readonly customerId?: string;
  readonly onProgress?: (progress: SweepProgress) => void;
}

/** Plans a sweep without changing anything. */
export async function planSweep(
  app: Pick<App, 'sweepDeps' | 'pool' | 'source'>,
  options: PlanOptions = {},
): Promise<PlanResult> {
  const only = options.customerId;
  if (only !== undefined && !(await existingCustomerIds(app.pool, app.source, [only])).has(only)) {
    throw new NotFoundError(`no customer with id ${JSON.stringify(only)}`);
  }
  const changes: Change[] = [];
  const conflicts: Conflict[] = [];
  const orphans: PlanResult['orphans'] = [];
  const report = await runSweep(app.sweepDeps(), {
    trigger: 'manual',
    dryRun: true,
    onChange: (change) => {
      if (only === undefined || change.customerId === only) changes.push(change);
    },
    onConflict: (conflict) => {
      if (only === undefined || conflict.customerId === only) conflicts.push(conflict);
    },
    onOrphan: (orphan) => {
      if (only === undefined)
        orphans.push({ workspaceId: orphan.id, name: orphan.name, status: orphan.status });
    },
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return {
    changes: changes.map(({ customerId, action, workspaceId, from, to }) => ({
      customerId,
      action,
      workspaceId,
      from,
      to,
    })),
    orphans,
    conflicts,
    held: report.held,
    sourceOutage: report.sourceOutage,
    limitExceeded: report.limitExceeded,
    destructive: report.destructive,
    listingComplete: report.listingComplete,
    counts: report.counts,
    ...(report.error ? { error: report.error } : {}),
  };
}
