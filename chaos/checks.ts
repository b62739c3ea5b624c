/**
 * The invariants, each a pure function of what the run recorded (the model, the simulator's store
 * and journal, the database's rows) returning a verdict with its figure.
 */
import type { Journal, MutationRecord, WorkspaceStore } from '../simulator/index.js';
import type { Model } from './model.js';

export interface Verdict {
  readonly name: string;
  readonly ok: boolean;
  readonly figure: string;
  /** Ids (workspaces, customers) whose lines in the daemons' logs explain a failure. */
  readonly trace?: readonly string[];
}

export interface Db {
  readonly rows: Map<string, { name: string; status: string }>;
  /** customer id → workspace id */
  readonly links: Map<string, string>;
  readonly sharedWorkspaces: number;
  readonly audit: AuditRow[];
  readonly holds: HoldRow[];
}

export interface AuditRow {
  readonly at: number;
  readonly customerId: string | null;
  readonly workspaceId: string | null;
  readonly action: string;
  readonly after: unknown;
  readonly trigger: string;
  readonly outcome: string;
}

export interface HoldRow {
  readonly sweepId: string | null;
  readonly customerId: string | null;
  readonly workspaceId: string | null;
  readonly action: string;
  readonly createdAt: number;
  readonly state: string;
  readonly decidedAt: number | null;
}

/** How long before its hold a change may have been admitted (see `policy`). */
const ADMITTED_SLACK_MS = 2_000;

const fmt = (n: number) => n.toLocaleString('en-US');
const examples = (items: string[]) =>
  items.length ? `; e.g. ${items.slice(0, 3).join('; ')}` : '';

/** Customers whose row or workspace is not what the model says (uncertain ones left out). */
export function divergences(
  model: Model,
  db: Db,
  store: WorkspaceStore,
  uncertain: ReadonlySet<string>,
  graceMs: number,
  now: number,
  only?: readonly string[],
): string[] {
  const out: string[] = [];
  for (const id of only ?? model.rows.keys()) {
    const want = model.rows.get(id);
    if (!want || uncertain.has(id)) continue;
    const row = db.rows.get(id);
    if (!row || row.name !== want.name || row.status !== want.status) {
      out.push(`${id}: row ${JSON.stringify(row)} ≠ ${JSON.stringify(want)}`);
      continue;
    }
    const wsId = db.links.get(id);
    const ws = wsId ? store.get(wsId) : undefined;
    if (want.status === 'deleted') {
      const due = (model.deletedAt.get(id) ?? -Infinity) + graceMs;
      if (ws && (now >= due || ws.status !== 'inactive'))
        out.push(`${id}: deleted, workspace still ${ws.status}`);
      continue;
    }
    if (!ws) out.push(`${id}: no live linked workspace (link ${wsId ?? 'none'})`);
    else if (ws.name !== want.name || ws.status !== want.status)
      out.push(`${id}: workspace "${ws.name}" ${ws.status} ≠ "${want.name}" ${want.status}`);
  }
  return out;
}

/** No customer with two workspaces, no workspace of two customers, no mint under a stale name. */
export function identity(
  model: Model,
  db: Db,
  store: WorkspaceStore,
  journal: Journal,
  orphanIds: ReadonlySet<string>,
  staleMarginMs: number,
  owners: ReadonlyMap<string, string>,
  t0: number,
): Verdict {
  const linked = new Set(db.links.values());
  // Unlinked from the start: whoever had the name it was minted under.
  const ownerOf = (wsId: string) => {
    const mintName = journal.mints.find((m) => m.workspaceId === wsId)?.name;
    return owners.get(wsId) ?? (mintName !== undefined ? model.ownerOf(mintName) : undefined);
  };
  // A stray's post-mortem: whose it was, and every audit row naming it or its owner.
  const history = (wsId: string) => {
    const owner = ownerOf(wsId);
    const rows = db.audit.filter(
      (a) => a.workspaceId === wsId || (owner !== undefined && a.customerId === owner),
    );
    const trail = rows
      .map(
        (a) =>
          `+${((a.at - t0) / 1000).toFixed(1)}s ${a.trigger} ${a.action} ${a.workspaceId === wsId ? 'it' : (a.workspaceId ?? '-')} ${JSON.stringify(a.after)} ${a.outcome}`,
      )
      .join(', ');
    const minted = journal.mints
      .filter((m) => m.workspaceId === wsId)
      .map((m) => `minted +${((m.at - t0) / 1000).toFixed(1)}s as "${m.name}"`);
    return `${[wsId, ...minted].join(', ')}, owner ${owner ?? 'unknown'}${trail ? `: ${trail}` : ''}`;
  };
  const strays = store
    .list()
    .filter((w) => w.name !== 'default' && !linked.has(w.id) && !orphanIds.has(w.id));
  const stale = journal.mints.filter((m) => model.isStale(m.name, m.at, staleMarginMs));
  const ok = strays.length === 0 && db.sharedWorkspaces === 0 && stale.length === 0;
  const trace = strays.flatMap((w) => {
    const owner = ownerOf(w.id);
    return owner === undefined ? [w.id] : [w.id, owner];
  });
  return {
    trace,
    name: 'one workspace per customer, one customer per workspace, no mint under a stale name',
    ok,
    figure:
      `${fmt(store.count())} live workspaces, ${fmt(db.links.size)} links: ` +
      `${strays.length} unlinked stray workspaces, ${db.sharedWorkspaces} workspaces linked twice; ` +
      `${fmt(journal.mints.length)} mints, ${stale.length} under a stale name (margin ${staleMarginMs / 1000} s)` +
      examples([
        ...strays.map(
          (w) =>
            `stray "${w.name}" (last wanted by ${model.ownerOf(w.name) ?? 'nobody'}; ${history(w.id)})`,
        ),
        ...stale.map((m) => `mint "${m.name}" at +${m.at}`),
      ]),
  };
}

/** Whom each workspace belonged to, from the links seen and every audit row naming both. */
export function ownersOf(db: Db, initialLinks: ReadonlyMap<string, string>): Map<string, string> {
  const owner = new Map<string, string>();
  for (const [customer, ws] of initialLinks) owner.set(ws, customer);
  for (const [customer, ws] of db.links) owner.set(ws, customer);
  for (const a of db.audit)
    if (a.workspaceId && a.customerId) owner.set(a.workspaceId, a.customerId);
  return owner;
}

/** Every remote change the simulator journaled has an audit row started no later than it. */
export function auditAccounts(db: Db, journal: Journal): Verdict {
  const byWorkspace = new Map<string, AuditRow[]>();
  const createsByName = new Map<string, AuditRow[]>();
  for (const a of db.audit) {
    if (a.workspaceId) push(byWorkspace, a.workspaceId, a);
    if ((a.action === 'create' || a.action === 'adopt') && typeof a.after === 'string')
      push(createsByName, a.after, a);
  }
  const mintedAs = new Map(journal.mints.map((m) => [m.workspaceId, m.name]));
  const missing: string[] = [];
  for (const m of journal.mints) {
    if (!(createsByName.get(m.name) ?? []).some((a) => a.at <= m.at + 5))
      missing.push(`mint of "${m.name}"`);
  }
  for (const m of journal.mutations) {
    const minted = mintedAs.get(m.workspaceId);
    const candidates = [
      ...(byWorkspace.get(m.workspaceId) ?? []),
      ...(minted ? (createsByName.get(minted) ?? []) : []),
    ];
    if (!candidates.some((a) => a.at <= m.at + 5 && explains(a, m)))
      missing.push(`${describe(m)} of ${m.workspaceId}`);
  }
  const total = journal.mints.length + journal.mutations.length;
  return {
    name: 'the audit accounts for every remote change',
    ok: missing.length === 0,
    figure: `${fmt(total)} remote changes journaled (${tally(journal)}); ${missing.length} without an audit row${examples(missing)}`,
  };
}

function explains(a: AuditRow, m: MutationRecord): boolean {
  if (m.kind === 'delete') return a.action === 'delete';
  if (m.name !== undefined) return a.action === 'rename' && a.after === m.name;
  if (a.action === 'create' || a.action === 'adopt') return true;
  return a.action === (m.status === 'active' ? 'activate' : 'deactivate');
}

function describe(m: MutationRecord): string {
  if (m.kind === 'delete') return 'delete';
  return m.name !== undefined ? `rename to "${m.name}"` : `status → ${m.status ?? '?'}`;
}

function tally(journal: Journal): string {
  let renames = 0;
  let statuses = 0;
  let deletes = 0;
  for (const m of journal.mutations) {
    if (m.kind === 'delete') deletes++;
    else if (m.name !== undefined) renames++;
    else statuses++;
  }
  return `${journal.mints.length} mints, ${renames} renames, ${statuses} status changes, ${deletes} deletes`;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export interface PolicyInput {
  readonly model: Model;
  readonly db: Db;
  readonly journal: Journal;
  readonly owners: ReadonlyMap<string, string>;
  readonly orphanIds: ReadonlySet<string>;
  readonly massIds: ReadonlySet<string>;
  /** When the run first approved holds (Infinity if it never did). */
  readonly approvedAt: number;
  readonly graceMs: number;
  /** The most destructive changes the gate may let through in one window. */
  readonly threshold: number;
  /** When the run started: examples give times as offsets from it, like the progress lines. */
  readonly t0: number;
}

/** Deletes only after the grace, nothing while held, orphans untouched, mass changes capped. */
export function policy(p: PolicyInput): Verdict {
  const bad: string[] = [];
  let deletes = 0;
  let deactivations = 0;
  let massEarly = 0;
  let orphanTouches = 0;
  for (const m of p.journal.mutations) {
    const destructive = m.kind === 'delete' || m.status === 'inactive';
    if (p.orphanIds.has(m.workspaceId)) {
      orphanTouches++;
      bad.push(`orphan ${m.workspaceId} changed (${describe(m)})`);
      continue;
    }
    if (!destructive) continue;
    const customer = p.owners.get(m.workspaceId);
    if (!customer) {
      bad.push(`${describe(m)} of ${m.workspaceId}, which belongs to no customer`);
      continue;
    }
    if (m.kind === 'delete') {
      deletes++;
      const deletedAt = p.model.deletedAt.get(customer);
      if (deletedAt === undefined)
        bad.push(`${customer}'s workspace deleted but never the customer`);
      else if (m.at < deletedAt + p.graceMs)
        bad.push(
          `${customer}'s workspace deleted ${((m.at - deletedAt) / 1000).toFixed(1)} s after the customer`,
        );
    } else {
      deactivations++;
      if (!p.model.everDestructive.has(customer))
        bad.push(`${customer} deactivated, never asked for`);
      if (p.massIds.has(customer) && m.at < p.approvedAt) massEarly++;
    }
  }
  let heldBreaches = 0;
  for (const h of p.db.holds) {
    const end = Math.min(p.approvedAt, h.state === 'void' ? (h.decidedAt ?? Infinity) : Infinity);
    const admitted = p.db.audit.filter(
      (a) => a.workspaceId === h.workspaceId && a.action === h.action,
    );
    // A sync that passed the gate before the hold was written (another sync, or the sweep, then
    // held the same change) was allowed; the audit's time is taken just before the gate's lock.
    const allowedBefore = admitted.some((a) => a.at <= h.createdAt + ADMITTED_SLACK_MS);
    const breach = p.journal.mutations.find(
      (m) =>
        m.workspaceId === h.workspaceId &&
        m.at >= h.createdAt &&
        m.at < end &&
        (h.action === 'delete'
          ? m.kind === 'delete'
          : m.kind === 'update' && m.status === 'inactive'),
    );
    if (breach && !allowedBefore) {
      heldBreaches++;
      const rel = (t: number) => `${((t - h.createdAt) / 1000).toFixed(1)} s`;
      const audits = admitted.map((a) => `${a.trigger} ${a.outcome} at ${rel(a.at)}`);
      bad.push(
        `held ${h.action} of ${h.customerId ?? h.workspaceId} (${h.sweepId ? 'by a sweep' : 'by the gate'}, ${h.state}) carried out at +${((breach.at - p.t0) / 1000).toFixed(1)} s, ${rel(breach.at)} after the hold; its audit rows: ${audits.join(', ') || 'none'}`,
      );
    }
  }
  if (massEarly > p.threshold)
    bad.push(`${massEarly} of the mass deactivation went through (limit ${p.threshold})`);
  return {
    name: 'nothing destructive the policy did not allow (grace, holds, orphans, mass limit)',
    ok: bad.length === 0,
    figure:
      `${deletes} deletes (each ≥ DELETE_GRACE=${p.graceMs / 1000} s after its customer's), ${deactivations} deactivations; ` +
      `${p.db.holds.length} holds, ${heldBreaches} carried out while held (not admitted before the hold); mass deactivation of ${p.massIds.size}: ` +
      `${massEarly} before approval (limit ${p.threshold}); ${p.orphanIds.size} orphans, ${orphanTouches} changed` +
      examples(bad),
  };
}
