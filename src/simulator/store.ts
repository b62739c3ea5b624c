/**
 * The simulator's organization: its workspaces in creation order, names unique among the live
 * ones, deletes as tombstones. Synchronous, so tests (and the HTTP handlers) change it atomically
 * "behind the client's back". Three Fenwick trees (live, active, inactive) make a list page O(page
 * · log n) whatever the offset; only a `name_contains` filter scans.
 */
import { randomUUID } from 'node:crypto';

import type { WorkspaceStatus } from '../core/types.js';
import type { Clock } from '../lib/clock.js';
import { Fenwick } from './fenwick.js';
import { isoMicros, isWorkspaceStatus, type SimWorkspace } from './workspace.js';

/** Why the store refused a change; the HTTP layer maps each code onto the API's answer. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: 'not_found' | 'name_taken' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

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
  /** Every workspace ever created, tombstones included, in creation (= list) order. */
  readonly #slots: SimWorkspace[] = [];
  /** Lower-cased names, filled on the first `name_contains` scan. */
  readonly #lower: (string | undefined)[] = [];
  readonly #slotById = new Map<string, number>();
  /** Live workspaces only: a tombstone frees its name. */
  readonly #slotByName = new Map<string, number>();
  readonly #live = new Fenwick();
  readonly #active = new Fenwick();
  readonly #inactive = new Fenwick();

  /** Creates the organization with its `default` workspace. */
  constructor(organizationId: string, clock: Clock) {
    this.organizationId = organizationId;
    this.#clock = clock;
    this.create(DEFAULT_NAME);
  }

  /** Creates a live workspace; throws a `name_taken` StoreError when a live one has the name. */
  create(name: string, status: WorkspaceStatus = 'active'): SimWorkspace {
    checkName(name);
    checkStatus(status);
    if (this.#slotByName.has(name)) throw new StoreError('name_taken', `name taken: ${name}`);
    const now = isoMicros(this.#clock.now());
    return this.#append(name, status, now);
  }

  /**
   * Bulk insert for benchmarks: `count` workspaces named `nameOf(i)`, all stamped with one time.
   * Checks every name first, so a collision leaves the store unchanged.
   */
  seed(
    count: number,
    nameOf: (i: number) => string,
    statusOf: (i: number) => WorkspaceStatus = () => 'active',
  ): void {
    const names: string[] = new Array<string>(count);
    const seen = new Set<string>();
    for (let i = 0; i < count; i++) {
      const name = nameOf(i);
      checkName(name);
      if (this.#slotByName.has(name) || seen.has(name)) {
        throw new StoreError('name_taken', `seed: name taken: ${name}`);
      }
      seen.add(name);
      names[i] = name;
    }
    const now = isoMicros(this.#clock.now());
    for (let i = 0; i < count; i++) {
      const status = statusOf(i);
      checkStatus(status);
      this.#append(names[i] as string, status, now);
    }
  }

  /** The live workspace with this id; undefined when unknown or deleted. */
  get(id: string): SimWorkspace | undefined {
    const ws = this.getIncludingDeleted(id);
    return ws && !ws.tombstone ? ws : undefined;
  }

  /** The workspace with this id, tombstoned or not. */
  getIncludingDeleted(id: string): SimWorkspace | undefined {
    const slot = this.#slotById.get(id);
    return slot === undefined ? undefined : this.#slots[slot];
  }

  /** The live workspace with exactly this name. */
  findByName(name: string): SimWorkspace | undefined {
    const slot = this.#slotByName.get(name);
    return slot === undefined ? undefined : this.#slots[slot];
  }

  /** Renames a live workspace; the name must be free among the live ones (or already its own). */
  rename(id: string, name: string): SimWorkspace {
    return this.update(id, { name });
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
    const old = this.#slots[slot] as SimWorkspace;
    const name = patch.name ?? old.name;
    const status = patch.status ?? old.status;
    const cacheEnabled = patch.cacheEnabled === undefined ? old.cacheEnabled : patch.cacheEnabled;
    checkName(name);
    checkStatus(status);
    const holder = this.#slotByName.get(name);
    if (holder !== undefined && holder !== slot) {
      throw new StoreError('name_taken', `name taken: ${name}`);
    }
    if (name === old.name && status === old.status && cacheEnabled === old.cacheEnabled) return old;
    if (name !== old.name) {
      this.#slotByName.delete(old.name);
      this.#slotByName.set(name, slot);
      this.#lower[slot] = undefined;
    }
    if (status !== old.status) {
      this.#active.set(slot, status === 'active');
      this.#inactive.set(slot, status === 'inactive');
    }
    const updatedAt = isoMicros(this.#clock.now());
    return this.#replace(slot, { ...old, name, status, cacheEnabled, updatedAt });
  }

  /** Soft-deletes a live workspace: tombstoned, unlisted, its name free again. */
  delete(id: string): { id: string; deletedAt: string } {
    const slot = this.#liveSlot(id);
    const old = this.#slots[slot] as SimWorkspace;
    const deletedAt = isoMicros(this.#clock.now());
    this.#slotByName.delete(old.name);
    this.#live.set(slot, false);
    this.#active.set(slot, false);
    this.#inactive.set(slot, false);
    this.#replace(slot, { ...old, tombstone: true, updatedAt: deletedAt });
    return { id, deletedAt };
  }

  /** Every live workspace, in list order. */
  list(): SimWorkspace[] {
    return this.#slots.filter((ws) => !ws.tombstone);
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
    for (let k = offset; k < end; k++) items.push(this.#slots[tree.find(k)] as SimWorkspace);
    return { items, hasMore: end < tree.total };
  }

  #scan(tree: Fenwick, offset: number, limit: number, needle: string): StorePage {
    const items: SimWorkspace[] = [];
    let matched = 0;
    for (let slot = 0; slot < this.#slots.length; slot++) {
      if (!tree.get(slot)) continue;
      let lower = this.#lower[slot];
      if (lower === undefined) {
        lower = (this.#slots[slot] as SimWorkspace).name.toLowerCase();
        this.#lower[slot] = lower;
      }
      if (!lower.includes(needle)) continue;
      if (matched++ < offset) continue;
      if (items.length === limit) return { items, hasMore: true };
      items.push(this.#slots[slot] as SimWorkspace);
    }
    return { items, hasMore: false };
  }

  #append(name: string, status: WorkspaceStatus, now: string): SimWorkspace {
    const ws: SimWorkspace = Object.freeze({
      id: randomUUID(),
      name,
      organizationId: this.organizationId,
      status,
      cacheEnabled: null,
      tombstone: false,
      createdAt: now,
      updatedAt: now,
    });
    const slot = this.#slots.length;
    this.#slots.push(ws);
    this.#lower.push(undefined);
    this.#slotById.set(ws.id, slot);
    this.#slotByName.set(name, slot);
    this.#live.push(true);
    this.#active.push(status === 'active');
    this.#inactive.push(status === 'inactive');
    return ws;
  }

  #replace(slot: number, ws: SimWorkspace): SimWorkspace {
    const frozen = Object.freeze(ws);
    this.#slots[slot] = frozen;
    return frozen;
  }

  #liveSlot(id: string): number {
    const slot = this.#slotById.get(id);
    if (slot === undefined || (this.#slots[slot] as SimWorkspace).tombstone) {
      throw new StoreError('not_found', `workspace not found: ${id}`);
    }
    return slot;
  }
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new StoreError('invalid', 'a workspace name must be a non-empty string');
  }
}

function checkStatus(status: unknown): asserts status is WorkspaceStatus {
  if (!isWorkspaceStatus(status)) {
    throw new StoreError('invalid', `status must be active or inactive, got ${String(status)}`);
  }
}
