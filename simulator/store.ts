/**
 * The simulator's organization: its workspaces in creation order, names unique among the live
 * ones, deletes as tombstones. Synchronous, so tests (and the HTTP handlers) change it atomically
 * "behind the client's back". Three Fenwick trees (live, active, inactive) make a list page O(page
 * · log n) whatever the offset; only a `name_contains` filter scans. Workspaces are kept as
 * columns and handed out as fresh frozen objects: a million of them cost two maps and a few
 * arrays, not a million objects for the garbage collector to trace.
 */
import { REGION_IDS, type WorkspaceStatus } from '../src/core/types.js';
import type { Clock } from '../src/lib/clock.js';
import { Fenwick } from './fenwick.js';
import { randomUuid } from './uuid.js';
import {
  checkName,
  checkStatus,
  isoMicros,
  type SimRecord,
  type SimWorkspace,
  StoreError,
} from './workspace.js';

export { StoreError } from './workspace.js';

/** A partial update, as `PUT /workspaces/{id}` takes it. */
export interface WorkspacePatch {
  readonly name?: string;
  readonly status?: WorkspaceStatus;
  readonly cacheEnabled?: boolean | null;
}

/** What to list: the live workspaces, optionally of one status and/or containing a substring. */
export interface ListFilter {
  readonly status?: WorkspaceStatus;
  /** Case-insensitive substring of the name. */
  readonly nameContains?: string;
}

/** One page of a listing, and whether anything follows it. */
export interface StorePage {
  readonly items: readonly SimWorkspace[];
  readonly hasMore: boolean;
}

/** The name every organization's first workspace has. */
export const DEFAULT_NAME = 'default';

/** The in-memory workspaces of one organization. */
export class WorkspaceStore {
  readonly organizationId: string;
  readonly #clock: Clock;
  // Columns indexed by slot: every workspace ever created, tombstones included, in creation (=
  // list) order. Liveness and status for listing live in the Fenwick trees below.
  readonly #ids: string[] = [];
  readonly #names: string[] = [];
  readonly #statuses: WorkspaceStatus[] = [];
  readonly #cache: (boolean | null)[] = [];
  readonly #createdAt: number[] = [];
  readonly #updatedAt: number[] = [];
  /** The region id each workspace was created in; the API never shows it (no such field). */
  readonly #regions: string[] = [];
  /** Lower-cased names, filled on the first `name_contains` scan. */
  readonly #lower: (string | undefined)[] = [];
  readonly #slotById = new Map<string, number>();
  /** Live workspaces only: a tombstone frees its name. */
  readonly #slotByName = new Map<string, number>();
  readonly #live = new Fenwick();
  /** Workspaces the API answers with another organization's id (a lying or misrouted API). */
  readonly #foreign = new Map<number, string>();
  readonly #active = new Fenwick();
  readonly #inactive = new Fenwick();

  /** Creates the organization with its `default` workspace. */
  constructor(organizationId: string, clock: Clock) {
    this.organizationId = organizationId;
    this.#clock = clock;
    this.create(DEFAULT_NAME);
  }

  /**
   * Creates a live workspace in a region (the API's default, US, unless given); throws a
   * `name_taken` StoreError when a live one has the name.
   */
  create(
    name: string,
    status: WorkspaceStatus = 'active',
    regionId: string = REGION_IDS.us,
  ): SimWorkspace {
    checkName(name);
    checkStatus(status);
    if (this.#slotByName.has(name)) throw new StoreError('name_taken', `name taken: ${name}`);
    return this.#at(this.#append(name, status, this.#clock.now(), regionId));
  }

  /**
   * The region id the workspace (live or tombstoned) was created in; undefined for an unknown id.
   * Tests read it here: the API's workspace object has no region field.
   */
  regionOf(id: string): string | undefined {
    const slot = this.#slotById.get(id);
    return slot === undefined ? undefined : this.#regions[slot];
  }

  /**
   * Bulk insert for benchmarks: `count` workspaces named `nameOf(i)`, all stamped with one time.
   * All or nothing: a bad or taken name (or status) leaves the store as it was.
   */
  seed(
    count: number,
    nameOf: (i: number) => string,
    statusOf: (i: number) => WorkspaceStatus = () => 'active',
  ): void {
    const start = this.#ids.length;
    const now = this.#clock.now();
    try {
      for (let i = 0; i < count; i++) {
        const name = nameOf(i);
        const status = statusOf(i);
        checkName(name);
        checkStatus(status);
        if (this.#slotByName.has(name))
          throw new StoreError('name_taken', `seed: name taken: ${name}`);
        this.#append(name, status, now, REGION_IDS.us);
      }
    } catch (error) {
      this.#truncate(start);
      throw error;
    }
  }

  /** The live workspace with this id; undefined when unknown or deleted. */
  get(id: string): SimWorkspace | undefined {
    const slot = this.#slotById.get(id);
    return slot === undefined || !this.#live.get(slot) ? undefined : this.#at(slot);
  }

  /** The workspace with this id, tombstoned or not. */
  getIncludingDeleted(id: string): SimWorkspace | undefined {
    const slot = this.#slotById.get(id);
    return slot === undefined ? undefined : this.#at(slot);
  }

  /** The live workspace with exactly this name. */
  findByName(name: string): SimWorkspace | undefined {
    const slot = this.#slotByName.get(name);
    return slot === undefined ? undefined : this.#at(slot);
  }

  /** Renames a live workspace; the name must be free among the live ones (or already its own). */
  rename(id: string, name: string): SimWorkspace {
    return this.update(id, { name });
  }

  /**
   * From now on the API answers this workspace with another organization's id, as a misrouted
   * gateway or a lying API would (tests of the organization check).
   */
  markForeign(id: string, organizationId: string): void {
    const slot = this.#slotById.get(id);
    if (slot === undefined) throw new StoreError('not_found', `no workspace ${id}`);
    this.#foreign.set(slot, organizationId);
  }

  /** Sets a live workspace's status. */
  setStatus(id: string, status: WorkspaceStatus): SimWorkspace {
    return this.update(id, { status });
  }

  /**
   * A partial update of a live workspace, all or nothing. `updatedAt` moves only when something
   * changed. Throws `not_found`, `name_taken` or `invalid` StoreErrors.
   */
  update(id: string, patch: WorkspacePatch): SimWorkspace {
    const slot = this.#liveSlot(id);
    const oldName = this.#names[slot] as string;
    const oldStatus = this.#statuses[slot] as WorkspaceStatus;
    const oldCache = this.#cache[slot] as boolean | null;
    const name = patch.name ?? oldName;
    const status = patch.status ?? oldStatus;
    const cacheEnabled = patch.cacheEnabled === undefined ? oldCache : patch.cacheEnabled;
    checkName(name);
    checkStatus(status);
    const holder = this.#slotByName.get(name);
    if (holder !== undefined && holder !== slot) {
      throw new StoreError('name_taken', `name taken: ${name}`);
    }
    if (name === oldName && status === oldStatus && cacheEnabled === oldCache)
      return this.#at(slot);
    if (name !== oldName) {
      this.#slotByName.delete(oldName);
      this.#slotByName.set(name, slot);
      this.#names[slot] = name;
      this.#lower[slot] = undefined;
    }
    if (status !== oldStatus) {
      this.#statuses[slot] = status;
      this.#active.set(slot, status === 'active');
      this.#inactive.set(slot, status === 'inactive');
    }
    this.#cache[slot] = cacheEnabled;
    this.#updatedAt[slot] = this.#clock.now();
    return this.#at(slot);
  }

  /** Soft-deletes a live workspace: tombstoned, unlisted, its name free again. */
  delete(id: string): { id: string; deletedAt: string } {
    const slot = this.#liveSlot(id);
    const now = this.#clock.now();
    this.#slotByName.delete(this.#names[slot] as string);
    this.#live.set(slot, false);
    this.#active.set(slot, false);
    this.#inactive.set(slot, false);
    this.#updatedAt[slot] = now;
    return { id: this.#ids[slot] as string, deletedAt: isoMicros(now) };
  }

  /**
   * Every workspace ever created, tombstones included, in creation order, each with the region it
   * was created in: what `restore` takes.
   */
  records(): SimRecord[] {
    return this.#ids.map((_, slot) => ({
      ...this.#at(slot),
      regionId: this.#regions[slot] as string,
    }));
  }

  /**
   * Replaces everything with `records` (from {@link records}, perhaps of another run): the same
   * ids, names, statuses, tombstones and times. All or nothing: bad records leave it as it was.
   */
  restore(records: readonly SimRecord[]): void {
    const before = this.records();
    try {
      this.#replace(records);
    } catch (error) {
      this.#replace(before);
      throw error;
    }
  }

  #replace(records: readonly SimRecord[]): void {
    this.#truncate(0);
    this.#slotByName.clear();
    this.#foreign.clear();
    for (const r of records) {
      checkName(r.name);
      checkStatus(r.status);
      if (this.#slotById.has(r.id)) throw new StoreError('invalid', `restore: id twice: ${r.id}`);
      if (!r.tombstone && this.#slotByName.has(r.name))
        throw new StoreError('name_taken', `restore: name taken: ${r.name}`);
      const region = r.regionId ?? REGION_IDS.us;
      const slot = this.#append(r.name, r.status, Date.parse(r.createdAt), region, r.id);
      this.#cache[slot] = r.cacheEnabled;
      this.#updatedAt[slot] = Date.parse(r.updatedAt);
      if (r.organizationId !== this.organizationId) this.#foreign.set(slot, r.organizationId);
      if (r.tombstone) {
        this.#slotByName.delete(r.name);
        this.#live.set(slot, false);
        this.#active.set(slot, false);
        this.#inactive.set(slot, false);
      }
    }
  }

  /** Every live workspace, in list order. */
  list(): SimWorkspace[] {
    const out: SimWorkspace[] = [];
    for (let slot = 0; slot < this.#ids.length; slot++) {
      if (this.#live.get(slot)) out.push(this.#at(slot));
    }
    return out;
  }

  /** How many live workspaces there are. */
  count(): number {
    return this.#live.total;
  }

  /** Live workspaces by status, as `GET /workspaces/stats` reports them. */
  counts(): { active: number; inactive: number; total: number } {
    return { active: this.#active.total, inactive: this.#inactive.total, total: this.#live.total };
  }

  /** Up to `limit` workspaces matching `filter`, skipping the first `offset` matches. */
  page(offset: number, limit: number, filter: ListFilter = {}): StorePage {
    const tree =
      filter.status === 'active'
        ? this.#active
        : filter.status === 'inactive'
          ? this.#inactive
          : this.#live;
    if (filter.nameContains !== undefined && filter.nameContains !== '') {
      return this.#scan(tree, offset, limit, filter.nameContains.toLowerCase());
    }
    const items: SimWorkspace[] = [];
    const end = Math.min(offset + limit, tree.total);
    for (let k = offset; k < end; k++) items.push(this.#at(tree.find(k)));
    return { items, hasMore: end < tree.total };
  }

  #scan(tree: Fenwick, offset: number, limit: number, needle: string): StorePage {
    const items: SimWorkspace[] = [];
    let matched = 0;
    for (let slot = 0; slot < this.#ids.length; slot++) {
      if (!tree.get(slot)) continue;
      let lower = this.#lower[slot];
      if (lower === undefined) {
        lower = (this.#names[slot] as string).toLowerCase();
        this.#lower[slot] = lower;
      }
      if (!lower.includes(needle)) continue;
      if (matched++ < offset) continue;
      if (items.length === limit) return { items, hasMore: true };
      items.push(this.#at(slot));
    }
    return { items, hasMore: false };
  }

  /** A snapshot of the workspace in `slot`. */
  #at(slot: number): SimWorkspace {
    return Object.freeze({
      id: this.#ids[slot] as string,
      name: this.#names[slot] as string,
      organizationId: this.#foreign.get(slot) ?? this.organizationId,
      status: this.#statuses[slot] as WorkspaceStatus,
      cacheEnabled: this.#cache[slot] as boolean | null,
      tombstone: !this.#live.get(slot),
      createdAt: isoMicros(this.#createdAt[slot] as number),
      updatedAt: isoMicros(this.#updatedAt[slot] as number),
    });
  }

  #append(
    name: string,
    status: WorkspaceStatus,
    now: number,
    regionId: string,
    id = randomUuid(),
  ): number {
    const slot = this.#ids.length;
    this.#ids.push(id);
    this.#names.push(name);
    this.#statuses.push(status);
    this.#cache.push(null);
    this.#createdAt.push(now);
    this.#updatedAt.push(now);
    this.#regions.push(regionId);
    this.#lower.push(undefined);
    this.#slotById.set(id, slot);
    this.#slotByName.set(name, slot);
    this.#live.push(true);
    this.#active.push(status === 'active');
    this.#inactive.push(status === 'inactive');
    return slot;
  }

  /** Forgets the slots from `length` on (only ever fresh, live ones: a failed seed). */
  #truncate(length: number): void {
    for (let slot = length; slot < this.#ids.length; slot++) {
      this.#slotById.delete(this.#ids[slot] as string);
      this.#slotByName.delete(this.#names[slot] as string);
    }
    for (const column of [
      this.#ids,
      this.#names,
      this.#statuses,
      this.#cache,
      this.#createdAt,
      this.#updatedAt,
      this.#regions,
      this.#lower,
    ]) {
      column.length = length;
    }
    this.#live.truncate(length);
    this.#active.truncate(length);
    this.#inactive.truncate(length);
  }

  #liveSlot(id: string): number {
    const slot = this.#slotById.get(id);
    if (slot === undefined || !this.#live.get(slot)) {
      throw new StoreError('not_found', `workspace not found: ${id}`);
    }
    return slot;
  }
}
