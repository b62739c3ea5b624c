/**
 * The whole plan, in memory: the specification the streaming sweep (SQL, a batch at a time) is
 * tested against, and what the planner's property tests apply. Test-only: the product plans with
 * the one per-customer decision of `src/core/planner.ts`, which this calls for every customer.
 */
import { workspaceName } from '../../src/core/names.js';
import { exceedsDestructiveLimit, isDestructive } from '../../src/core/destructive.js';
import {
  type CustomerFacts,
  decideCustomer,
  decideOrphan,
  type Policy,
} from '../../src/core/planner.js';
import {
  type Change,
  type Conflict,
  type Customer,
  isDefaultName,
  type Link,
  type WorkspaceState,
} from '../../src/core/types.js';

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

/** Earlier sign-up first (none sorts last, as `order by created_at` does); the id breaks ties. */
export function claimsBefore(a: Customer, b: Customer): boolean {
  const at = (c: Customer) => c.createdAt ?? Number.POSITIVE_INFINITY;
  return at(a) !== at(b) ? at(a) < at(b) : compare(a.id, b.id) < 0;
}

/** Byte order, the same as Postgres's `COLLATE "C"`, so memory and SQL sort alike. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
