/**
 * `adopt <customer-id> [<workspace-id>]`: a person's decision to link a customer to a workspace
 * that exists unlinked. A sync never adopts a workspace that a complete listing reported as an
 * orphan because a new customer took its name (a name a buyer chose at checkout must not hand
 * over a workspace, docs/design.md §5); a person does it here, or in the console. The link is stored
 * like a sync's (claimed, under the workspace's lock, unique), audited, the workspace taken off
 * the orphan report, and the customer's sync queued to bring its name and status in step (a
 * deactivation passes the destructive gate as any other).
 */
import type { App } from '../app.js';
import type { Workspace } from '../agent-engine/types.js';
import { workspaceName } from '../core/names.js';
import { isReservedId } from '../core/subject.js';
import { type Customer, isDefaultName } from '../core/types.js';
import { PermanentError, toError } from '../lib/errors.js';
import { finishAudit, startAudit } from '../sql/audit.js';
import { linkedCustomerOf, readSubject } from '../sql/customers.js';
import { storeLink } from '../sql/links.js';
import { forgetOrphan, reportedOrphanNamed } from '../sql/orphans.js';
import { claimSubject } from '../sql/syncClaims.js';
import { NotFoundError, UsageError } from './errors.js';

type AdoptApp = Pick<App, 'pool' | 'source' | 'engine' | 'policy' | 'syncQueue'>;

export interface Adoption {
  readonly customerId: string;
  readonly workspace: { readonly id: string; readonly name: string; readonly status: string };
}

/**
 * Links `customerId` to the workspace `workspaceId`, or to the unlinked workspace bearing its
 * desired name. An unknown customer or workspace is a {@link NotFoundError}; a customer already
 * linked, a deleted one, a workspace linked to someone else or named like the default workspace
 * a {@link UsageError}. `by` names the person, for the audit.
 */
export async function adoptWorkspace(
  app: AdoptApp,
  customerId: string,
  workspaceId?: string,
  options: { by?: string } = {},
): Promise<Adoption> {
  const customer = await adoptable(app, customerId);
  const ws = workspaceId
    ? await app.engine().getWorkspace(workspaceId)
    : await namedWorkspace(app, customer);
  if (!ws) {
    throw new NotFoundError(
      workspaceId
        ? `no workspace with id ${JSON.stringify(workspaceId)}`
        : `no workspace named "${workspaceName(app.policy.nameTemplate, customer)}" to adopt`,
    );
  }
  if (isDefaultName(ws.name)) {
    throw new UsageError(
      `workspace ${ws.id} is the organization's default workspace: never linked`,
    );
  }
  const owner = await linkedCustomerOf(app.pool, ws.id);
  if (owner) throw new UsageError(`workspace ${ws.id} is linked to customer ${owner}`);
  await link(app, customer, ws, options.by);
  // Its name and status as the customer wants them: an ordinary sync (a rename; an activation;
  // a deactivation through the gate).
  await app.syncQueue.enqueue([customer.id], 'adopt');
  return { customerId, workspace: { id: ws.id, name: ws.name, status: ws.status } };
}

/** The customer, if it may adopt: known, not deleted, not linked. */
async function adoptable(app: AdoptApp, customerId: string): Promise<Customer> {
  const row = isReservedId(customerId) ? null : await readSubject(app.pool, app.source, customerId);
  if (!row) throw new NotFoundError(`no customer with id ${JSON.stringify(customerId)}`);
  if (row.link) {
    throw new UsageError(
      `customer ${customerId} is already linked to workspace ${row.link.workspaceId}`,
    );
  }
  if (row.customer.status === 'deleted')
    throw new UsageError(`customer ${customerId} is deleted: it gets no workspace`);
  return row.customer;
}

/**
 * The unlinked workspace of the customer's desired name: the reported orphan of that name (read
 * by id, so it is known to exist still), else one found by listing under the name (which, unlike
 * get-or-create, creates nothing).
 */
async function namedWorkspace(app: AdoptApp, customer: Customer): Promise<Workspace | undefined> {
  const name = workspaceName(app.policy.nameTemplate, customer);
  const orphan = await reportedOrphanNamed(app.pool, name, customer.id);
  if (orphan) {
    const ws = await app.engine().getWorkspace(orphan);
    if (ws?.name === name) return ws;
  }
  for await (const page of app.engine().listWorkspaces({ nameContains: name })) {
    for (const ws of page) {
      if (ws.name === name && !(await linkedCustomerOf(app.pool, ws.id))) return ws;
    }
  }
  return undefined;
}

/** Stores the link as a sync does (claimed: any sync of the customer running now is stale). */
async function link(
  app: AdoptApp,
  customer: Customer,
  ws: Workspace,
  by: string | undefined,
): Promise<void> {
  const claim = await claimSubject(app.pool, customer.id);
  const auditId = await startAudit(app.pool, {
    trigger: 'adopt',
    sweepId: null,
    jobId: null,
    customerId: customer.id,
    workspaceId: ws.id,
    action: 'adopt',
    before: ws.status,
    after: ws.name,
    attempts: 1,
    destructive: false,
  });
  try {
    await storeLink(app.pool, claim, customer.id, ws.id, ws.name, ws.status);
  } catch (error) {
    await finishAudit(app.pool, auditId, 'failed', toError(error).message).catch(() => {});
    // The unique link refused it: linked to someone else since it was checked.
    if (error instanceof PermanentError) throw new UsageError(error.message);
    throw error;
  }
  await finishAudit(app.pool, auditId, 'ok', `adopted by a person${by ? ` (${by})` : ''}`, ws.id);
  await forgetOrphan(app.pool, ws.id);
}
