/**
 * The planner: a pure function from (customers, links, workspaces, policy, now) to a plan. No I/O.
 *
 * One decision, {@link decideCustomer}, is made per customer from a few facts about it. The sweep
 * gathers those facts in SQL (memory stays flat whatever the fleet), the sync job gathers them
 * with a GET by id, and {@link plan} gathers them in memory; all three then decide the same way.
 */
import { workspaceName } from './names.js';
import {
  type Change,
  type Conflict,
  type Customer,
  DESTRUCTIVE_ACTIONS,
  isDefaultName,
  type Link,
  MISSING,
  type WorkspaceState,
} from './types.js';

/** The settings a decision depends on. */
export interface Policy {
  readonly nameTemplate: string;
  readonly deleteGraceMs: number;
  readonly maxDestructivePerSweep: number;
  readonly maxDestructiveShare: number;
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
  const conflict = nameConflict(facts, desired);
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
  if (ws.name !== desired) {
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

/** The mass-change limit: true when `destructive` exceeds both the count and the share. */
export function exceedsDestructiveLimit(
  destructive: number,
  linkedCount: number,
  policy: Pick<Policy, 'maxDestructivePerSweep' | 'maxDestructiveShare'>,
): boolean {
  return (
    destructive > policy.maxDestructivePerSweep &&
    destructive > policy.maxDestructiveShare * linkedCount
  );
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

/**
 * Whether a change passes the destructive gate: deactivations, deletes, and the re-creation of a
 * workspace that went missing (see {@link MISSING}).
 */
export const isDestructive = (change: Pick<Change, 'action' | 'from'>): boolean =>
  DESTRUCTIVE_ACTIONS.has(change.action) || (change.action === 'create' && change.from === MISSING);

/** A sweep's whole plan. */
export interface Plan {
  readonly changes: readonly Change[];
  readonly conflicts: readonly Conflict[];
  readonly orphans: readonly WorkspaceState[];
  /** Destructive changes exceed the mass-change limit: they are held for approval. */
  readonly held: boolean;
  /** Customers with a live workspace at the sweep's start (the limit's denominator). */
  readonly linkedCount: number;
}

export interface PlanInput {
  readonly customers: readonly Customer[];
  readonly links: readonly Link[];
  readonly workspaces: readonly WorkspaceState[];
  /** False when the listing failed part-way: then nothing is deleted or deactivated. */
  readonly listingComplete: boolean;
  readonly policy: Policy;
  readonly now: number;
}

/** The whole plan, in memory: the specification the streaming sweep is tested against. */
export function plan(input: PlanInput): Plan {
  const { policy, now } = input;
  const byId = new Map(input.workspaces.map((w) => [w.id, w]));
  const linkOf = new Map(input.links.map((l) => [l.customerId, l]));
  const linkedWorkspace = new Map(input.links.map((l) => [l.workspaceId, l.customerId]));
  const byName = new Map(input.workspaces.map((w) => [w.name, w]));
  const owners = nameOwners(input.customers, input.links, byName, policy);

  const changes: Change[] = [];
  const conflicts: Conflict[] = [];
  const adopted = new Set<string>();
  for (const customer of [...input.customers].sort((a, b) => compare(a.id, b.id))) {
    const link = linkOf.get(customer.id) ?? null;
    const desired = workspaceName(policy.nameTemplate, customer);
    const named = byName.get(desired);
    const facts: CustomerFacts = {
      customer,
      link,
      linked: link
        ? (byId.get(link.workspaceId) ?? (input.listingComplete ? 'missing' : 'unknown'))
        : null,
      named: named ? { workspace: named, linkedTo: linkedWorkspace.get(named.id) ?? null } : null,
      nameOwner: owners.get(desired) ?? customer.id,
    };
    const decision = decideCustomer(facts, policy, now);
    for (const change of decision.changes) {
      if (change.action === 'adopt' && change.workspaceId) adopted.add(change.workspaceId);
      changes.push(change);
    }
    if (decision.conflict) conflicts.push(decision.conflict);
  }

  const orphans = input.workspaces.filter(
    (w) => !linkedWorkspace.has(w.id) && !adopted.has(w.id) && !isDefaultName(w.name),
  );
  if (input.listingComplete) {
    for (const orphan of orphans) {
      const change = decideOrphan(orphan, policy);
      if (change) changes.push(change);
    }
  }
  const safe = input.listingComplete ? changes : changes.filter((c) => !isDestructive(c));
  const linkedCount = input.links.filter((l) => byId.has(l.workspaceId)).length;
  const destructive = safe.filter(isDestructive).length;
  return {
    changes: safe,
    conflicts,
    orphans,
    held: exceedsDestructiveLimit(destructive, linkedCount, policy),
    linkedCount,
  };
}

/** Who owns each desired name: the customer linked to the workspace of that name, else the first. */
function nameOwners(
  customers: readonly Customer[],
  links: readonly Link[],
  byName: ReadonlyMap<string, WorkspaceState>,
  policy: Policy,
): Map<string, string> {
  const linkedTo = new Map(links.map((l) => [l.workspaceId, l.customerId]));
  const owners = new Map<string, string>();
  const first = new Map<string, Customer>();
  for (const customer of customers) {
    if (customer.status === 'deleted') continue;
    const name = workspaceName(policy.nameTemplate, customer);
    const current = first.get(name);
    if (!current || claimsBefore(customer, current)) first.set(name, customer);
  }
  for (const [name, customer] of first) {
    const ws = byName.get(name);
    const holder = ws ? linkedTo.get(ws.id) : undefined;
    owners.set(name, holder ?? customer.id);
  }
  return owners;
}

/** Earlier sign-up first; the id breaks ties. */
export function claimsBefore(a: Customer, b: Customer): boolean {
  return a.createdAt !== b.createdAt ? a.createdAt < b.createdAt : compare(a.id, b.id) < 0;
}

/** Byte order, the same as Postgres's `COLLATE "C"`, so memory and SQL sort alike. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
