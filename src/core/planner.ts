/**
 * The planner: pure decisions from (a customer's facts, policy, now) to changes. No I/O.
 *
 * One decision, {@link decideCustomer}, is made per customer from a few facts about it. The sweep
 * gathers those facts in SQL (memory stays flat whatever the fleet), the sync job from the link's
 * last-known state (or a GET by id), and the tests' in-memory oracle (`test/support/planOracle.ts`)
 * from whole lists; all three then decide the same way.
 */
import type { MassChangeLimit } from './destructive.js';
import { inStep } from './inStep.js';
import { lacksName, noNameReason, workspaceName } from './names.js';
import {
  type Change,
  type Conflict,
  type Customer,
  isDefaultName,
  type Link,
  MISSING,
  type WorkspaceState,
} from './types.js';

/** The settings a decision depends on. */
export interface Policy extends MassChangeLimit {
  readonly nameTemplate: string;
  readonly deleteGraceMs: number;
  readonly orphans: 'report' | 'deactivate' | 'delete';
}

/**
 * What is known of one customer's linked workspace: its state, `missing` (a complete listing or
 * a GET by id says it is gone), or `unknown` (an incomplete listing did not show it).
 */
export type LinkedWorkspace = WorkspaceState | 'missing' | 'unknown';

/** Everything {@link decideCustomer} needs to know about one customer. */
export interface CustomerFacts {
  readonly customer: Customer;
  readonly link: Link | null;
  /** The linked workspace; null when there is no link. */
  readonly linked: LinkedWorkspace | null;
  /** A live workspace bearing the customer's desired name, and who links to it. */
  readonly named: { readonly workspace: WorkspaceState; readonly linkedTo: string | null } | null;
  /**
   * The customer that owns the desired name: the one linked to the workspace of that name, else
   * the earliest (created_at, id) non-deleted customer wanting it. The others get a conflict.
   */
  readonly nameOwner: string;
  /**
   * A workspace bearing the desired name, linked to nobody, that the last complete listing
   * reported as an orphan (the `orphans` table): only a person adopts it (`adopt`), never a
   * customer that took its name afterwards. Unknown or none: null or absent.
   */
  readonly reportedOrphan?: string | null;
}

export interface Decision {
  readonly changes: readonly Change[];
  readonly conflict: Conflict | null;
}

const NOTHING: Decision = { changes: [], conflict: null };

/** The one decision: what this customer's workspace needs now. */
export function decideCustomer(facts: CustomerFacts, policy: Policy, now: number): Decision {
  const { customer, link, linked } = facts;
  const desired = workspaceName(policy.nameTemplate, customer);
  if (link && linked && linked !== 'missing') {
    if (linked === 'unknown') return NOTHING;
    return decideLinked(facts, linked, desired, policy, now);
  }
  // The linked workspace is gone: re-creating it, or forgetting a deleted customer's link, is
  // gated like a delete (an API answering 404 for everything must not mint a new fleet).
  const gone = link !== null && linked === 'missing';
  if (customer.status === 'deleted') {
    if (!gone) return NOTHING;
    const drop: Change = {
      customerId: customer.id,
      action: 'delete',
      workspaceId: link.workspaceId,
      from: MISSING,
      to: 'deleted',
    };
    return { changes: [drop], conflict: null };
  }
  const conflict = lacksName(policy.nameTemplate, customer)
    ? { customerId: customer.id, name: desired, reason: noNameReason(customer.id, null) }
    : nameConflict(facts, desired);
  if (conflict) return { changes: [], conflict };
  const change = (action: Change['action'], workspaceId: string | null, from: string | null) => ({
    customerId: customer.id,
    action,
    workspaceId,
    from,
    to: action === 'create' || action === 'adopt' ? desired : customer.status,
  });
  if (!facts.named) {
    return { changes: [change('create', null, gone ? MISSING : null)], conflict: null };
  }
  const ws = facts.named.workspace;
  // `from` of an adoption: the status the listing showed (the sync then needs no GET for it).
  const changes: Change[] = [change('adopt', ws.id, ws.status)];
  if (customer.status !== ws.status) {
    changes.push(
      change(customer.status === 'active' ? 'activate' : 'deactivate', ws.id, ws.status),
    );
  }
  return { changes, conflict: null };
}

function decideLinked(
  facts: CustomerFacts,
  ws: WorkspaceState,
  desired: string,
  policy: Policy,
  now: number,
): Decision {
  const { customer, link } = facts;
  // The sweep leaves such customers out in SQL by the same rule (`inStepSql`).
  if (inStep(customer, ws, desired, policy.nameTemplate)) return NOTHING;
  const make = (action: Change['action'], from: string | null, to: string | null): Change => ({
    customerId: customer.id,
    action,
    workspaceId: ws.id,
    from,
    to,
  });
  // Whatever the customer wants, the organization's default workspace is never touched.
  if (isDefaultName(ws.name)) {
    return {
      changes: [],
      conflict: {
        customerId: customer.id,
        name: desired,
        reason: `workspace ${ws.id} is now named "${ws.name}", like the organization's default workspace: left alone`,
      },
    };
  }
  if (customer.status === 'deleted') {
    if (now >= deleteDueAt(link, policy, now)) {
      return { changes: [make('delete', ws.status, 'deleted')], conflict: null };
    }
    if (ws.status === 'active') {
      return { changes: [make('deactivate', 'active', 'inactive')], conflict: null };
    }
    return NOTHING;
  }
  const changes: Change[] = [];
  let conflict: Conflict | null = null;
  if (lacksName(policy.nameTemplate, customer)) {
    // Not a rename to "", nor a reason to deactivate: the name is missing, not the customer.
    conflict = { customerId: customer.id, name: desired, reason: noNameReason(customer.id, ws.id) };
  } else if (ws.name !== desired) {
    const reason = renameBlocked(facts, ws, desired);
    if (reason) {
      conflict = { customerId: customer.id, name: desired, reason };
    } else {
      changes.push(make('rename', ws.name, desired));
    }
  }
  if (customer.status !== ws.status) {
    const action = customer.status === 'active' ? 'activate' : 'deactivate';
    changes.push(make(action, ws.status, customer.status));
  }
  return { changes, conflict };
}

function renameBlocked(facts: CustomerFacts, ws: WorkspaceState, desired: string): string | null {
  if (isDefaultName(desired)) {
    return `"${desired}" is reserved for the organization's default workspace`;
  }
  if (facts.named && facts.named.workspace.id !== ws.id) {
    return `cannot rename to "${desired}": workspace ${facts.named.workspace.id} has that name`;
  }
  if (facts.nameOwner !== facts.customer.id) {
    return `cannot rename to "${desired}": customer ${facts.nameOwner} claims that name first`;
  }
  return null;
}

/** When a deleted customer's workspace is due for deletion (first seen deleted + grace). */
export function deleteDueAt(link: Link | null, policy: Policy, now: number): number {
  return link?.deleteDueAt ?? now + policy.deleteGraceMs;
}

function nameConflict(facts: CustomerFacts, desired: string): Conflict | null {
  const { customer, named, nameOwner } = facts;
  const conflict = (reason: string) => ({ customerId: customer.id, name: desired, reason });
  if (isDefaultName(desired)) {
    return conflict(`"${desired}" is reserved for the organization's default workspace`);
  }
  if (named?.linkedTo && named.linkedTo !== customer.id) {
    return conflict(
      `workspace name "${desired}" belongs to customer ${named.linkedTo} (workspace ${named.workspace.id})`,
    );
  }
  if (nameOwner !== customer.id) {
    return conflict(`workspace name "${desired}" is claimed first by customer ${nameOwner}`);
  }
  // Get-or-create by name would link it: a name an outsider chose (a buyer at checkout) must not
  // hand over a workspace that exists unlinked.
  if (facts.reportedOrphan) {
    return conflict(
      `workspace ${facts.reportedOrphan} named "${desired}" was reported as an orphan: it is adopted only by a person (adopt ${customer.id})`,
    );
  }
  return null;
}

/**
 * The status change a workspace just found by name (after a create or adopt) needs for its
 * customer, or null. It is an ordinary change: a deactivation passes the destructive gate.
 */
export function statusChange(customer: Customer, ws: WorkspaceState): Change | null {
  const wanted = customer.status === 'inactive' ? 'inactive' : 'active';
  if (customer.status === 'deleted' || ws.status === wanted) return null;
  return {
    customerId: customer.id,
    action: wanted === 'active' ? 'activate' : 'deactivate',
    workspaceId: ws.id,
    from: ws.status,
    to: wanted,
  };
}

/** What the orphan policy does to a workspace linked to no customer. */
export function decideOrphan(ws: WorkspaceState, policy: Policy): Change | null {
  if (isDefaultName(ws.name) || policy.orphans === 'report') return null;
  if (policy.orphans === 'delete') {
    return {
      customerId: null,
      action: 'delete',
      workspaceId: ws.id,
      from: ws.status,
      to: 'deleted',
    };
  }
  if (ws.status === 'inactive') return null;
  return {
    customerId: null,
    action: 'deactivate',
    workspaceId: ws.id,
    from: 'active',
    to: 'inactive',
  };
}
